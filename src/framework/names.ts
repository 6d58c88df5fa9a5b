import unhomoglyph from "unhomoglyph";
import { NAME_MAX_LENGTH } from "../shared/protocol";

/**
 * Display names: what a player may be called, and when two names are one. `cleanName` makes a
 * requested name displayable (nothing invisible, nothing that reorders text); `nameSkeleton`
 * is what it looks like (Unicode TR39 confusables, case ignored); `uniqueName` renames a
 * look-alike to `name (2)`, `name (3)`...
 */

/**
 * What never shows: controls (Cc), format characters (Cf: zero-width space/joiners, bidi
 * marks, overrides and isolates, BOM, ...), line and paragraph separators, lone surrogates,
 * private-use and unassigned code points, the other default-ignorables (variation selectors,
 * Hangul fillers, tags, soft hyphen, ...), and the blank braille pattern.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\u2800]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, "gu");
const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}]$/u;
const KEYCAP_BASE = /^[0-9#*]$/;
const ZWJ = "\u200d";
const KEYCAP = "\u20e3";

/**
 * Strips what never shows, except the invisible glue inside an emoji: a variation selector
 * after a pictograph (❤️) or a keycap base (1️⃣), and a zero-width joiner between two
 * pictographs (👩‍💻). Look-alikes made with that glue are caught by `nameSkeleton`, which drops it.
 */
function stripInvisible(text: string): string {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (!INVISIBLE.test(ch)) {
      out.push(ch);
      continue;
    }
    const prev = out.at(-1) ?? "";
    const next = chars[i + 1] ?? "";
    const selector = ch === "\ufe0f" || ch === "\ufe0e";
    if (selector && (PICTOGRAPH.test(prev) || (KEYCAP_BASE.test(prev) && next === KEYCAP))) out.push(ch);
    else if (ch === ZWJ && (PICTOGRAPH.test(prev) || prev === "\ufe0f") && PICTOGRAPH.test(next)) out.push(ch);
  }
  return out.join("");
}

/** At most `max` UTF-16 units, never half a surrogate pair, no dangling joiner or space. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end).replace(/[\s\u200d]+$/u, "");
}

/**
 * A requested name made displayable: NFKC (fullwidth and styled letters become plain ones),
 * nothing invisible or text-reordering (see INVISIBLE), whitespace runs as one space, trimmed,
 * at most NAME_MAX_LENGTH UTF-16 units. Any script and emoji stay. May return "".
 */
export function cleanName(raw: string | undefined): string {
  const visible = stripInvisible((raw ?? "").normalize("NFKC")).normalize("NFKC");
  return cut(visible.replace(/\s+/gu, " ").trim(), NAME_MAX_LENGTH);
}

/**
 * What a name looks like, for comparing (never for display): the TR39 skeleton
 * (NFD, confusables.txt prototypes, NFD) of the NFKC name without anything invisible,
 * lower-cased. `Аda` (Cyrillic А), `Ada`, `AdA` and `ada` share one.
 */
export function nameSkeleton(name: string): string {
  const visible = name.normalize("NFKC").replace(INVISIBLE_ALL, "").replace(/\s+/gu, " ").trim();
  return unhomoglyph(visible.normalize("NFD")).normalize("NFD").toLowerCase();
}

/**
 * Every skeleton a name is known by: its own, and its lower-cased form's. A look-alike of a
 * name and a case variant of it each share one (`Ian` and `ian` differ in the first, since
 * TR39 maps `I` to `l`, but not in the second). Hold these for names in use.
 */
export function nameSkeletons(name: string): string[] {
  const own = nameSkeleton(name);
  const lower = nameSkeleton(name.toLowerCase());
  return own === lower ? [own] : [own, lower];
}

/**
 * `name` if none of its skeletons is `taken`, else the first free `name (2)`, `name (3)`...
 * (the base cut so the result fits NAME_MAX_LENGTH).
 */
export function uniqueName(name: string, taken: (skeleton: string) => boolean): string {
  for (const candidate of nameCandidates(name)) if (!nameSkeletons(candidate).some(taken)) return candidate;
  throw new Error("unreachable: nameCandidates never ends");
}

/** `name`, then `name (2)`, `name (3)`... (the base cut so each fits NAME_MAX_LENGTH), without end. */
export function* nameCandidates(name: string): Generator<string> {
  yield name;
  for (let i = 2; ; i++) {
    const suffix = ` (${i})`;
    yield `${cut(name, NAME_MAX_LENGTH - suffix.length).trimEnd()}${suffix}`;
  }
}
