import type Phaser from "phaser";

/** Draws the game's few textures at boot, so the client ships no image files. */
export function makeTextures(scene: Phaser.Scene): void {
  const g = scene.make.graphics({ x: 0, y: 0 }, false);

  // Players: a white disc with a dark rim, tinted per player.
  g.fillStyle(0xffffff).fillCircle(18, 18, 15);
  g.lineStyle(3, 0x0b1020).strokeCircle(18, 18, 15);
  g.fillStyle(0x0b1020).fillCircle(24, 14, 3);
  g.generateTexture("player", 36, 36);
  g.clear();

  // The own player's ring.
  g.lineStyle(3, 0xffffff).strokeCircle(24, 24, 21);
  g.generateTexture("self-ring", 48, 48);
  g.clear();

  // Gems: a cyan diamond.
  g.fillStyle(0x5ee6ff).fillTriangle(10, 0, 20, 10, 0, 10).fillTriangle(0, 10, 20, 10, 10, 22);
  g.fillStyle(0xe0fbff).fillTriangle(10, 2, 17, 10, 10, 10);
  g.generateTexture("gem", 20, 22);
  g.clear();

  // NPCs: an orange rounded square.
  g.fillStyle(0xff9f43).fillRoundedRect(2, 2, 26, 26, 7);
  g.lineStyle(2, 0x5a2d00).strokeRoundedRect(2, 2, 26, 26, 7);
  g.fillStyle(0x5a2d00).fillRect(9, 10, 4, 4).fillRect(17, 10, 4, 4);
  g.generateTexture("npc", 30, 30);
  g.destroy();
}

/** A stable, bright colour for a player id. */
export function colorFor(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  const hue = h % 360;
  // HSL(hue, 70%, 60%) to RGB.
  const s = 0.7;
  const l = 0.6;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = hue < 60 ? [c, x, 0] : hue < 120 ? [x, c, 0] : hue < 180 ? [0, c, x] : hue < 240 ? [0, x, c] : hue < 300 ? [x, 0, c] : [c, 0, x];
  return (Math.round((r + m) * 255) << 16) | (Math.round((g + m) * 255) << 8) | Math.round((b + m) * 255);
}
