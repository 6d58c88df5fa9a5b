/**
 * THE seam: every access to undocumented internals of @colyseus/core and @colyseus/schema
 * lives in this file and nowhere else (ESLint forbids `$changes`/`$childType` and the
 * private fields elsewhere). FanOutSerializer is written against `ColyseusInternals`, not
 * against the libraries' private shapes, so when an update changes them:
 * - the version test (test/colyseusInternals.test.ts) fails, naming both versions;
 * - the startup self-check (selfCheck.ts) sees the mismatch and the room falls back to the
 *   stock serializer: slower, still correct.
 *
 * Verified against the exact versions in VERIFIED_VERSIONS (package.json pins them).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type IRoomCache, type Room, type SchemaSerializer, matchMaker, requestFromIPC } from "@colyseus/core";
import { $changes, $childType, type ChangeTree, type Schema, type StateView } from "@colyseus/schema";

/** The versions whose internals this file was written and tested against. */
export const VERIFIED_VERSIONS = {
  "@colyseus/core": "0.18.17",
  "@colyseus/schema": "5.0.34",
  "@colyseus/sdk": "0.18.4",
} as const;

/** The installed versions of the packages in VERIFIED_VERSIONS. */
export function installedVersions(): Record<keyof typeof VERIFIED_VERSIONS, string> {
  const out = {} as Record<keyof typeof VERIFIED_VERSIONS, string>;
  for (const name of Object.keys(VERIFIED_VERSIONS) as (keyof typeof VERIFIED_VERSIONS)[]) out[name] = versionOf(name);
  return out;
}

/** A package's version, from the package.json above its entry point (its `exports` hide the file). */
function versionOf(name: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return "not installed";
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === name) return pkg.version ?? "unknown";
  }
  return "unknown";
}

/** A change queue as the encoder walks it (opaque outside this file). */
export interface ChangeQueue {
  next?: QueueNode;
  tail?: QueueNode;
  nextPosition: number;
}
interface QueueNode {
  changeTree: ChangeTree;
  next?: QueueNode;
}
/** A change tree (one Schema instance or collection), opaque outside this file. */
export type Tree = { readonly __tree: unique symbol };
/** The position cursor the encoder advances. */
export interface Cursor {
  offset: number;
}

interface EncoderShape {
  root: { changes: ChangeQueue };
  sharedBuffer: Uint8Array;
  encode(it: Cursor, view?: unknown, buffer?: Uint8Array): Uint8Array;
  encodeView(view: StateView, sharedOffset: number, it: Cursor): Uint8Array;
  discardChanges(): void;
  hasChanges: boolean;
}
interface TreeShape {
  isFiltered: boolean;
  isVisibilitySharedWithParent: boolean;
  visibleViews?: number[];
  parent?: { [$changes]: TreeShape };
  ref: Record<symbol, unknown>;
  encDescriptor: { isSchema: boolean; filter?: unknown; filterBitmask: number };
}
interface SerializerShape {
  encoder: EncoderShape;
}

/** Everything FanOutSerializer needs from the libraries' internals. */
export interface ColyseusInternals {
  /** The serializer a room uses: the stock one Colyseus made when `room.state` was assigned, until `setSerializer`. */
  serializerOf<S extends Schema>(room: Room): SchemaSerializer<S>;
  /** Copies a serializer's fields (its encoder above all) onto `target`. */
  adopt<S extends Schema, T extends SchemaSerializer<S>>(target: T, stock: SchemaSerializer<S>): T;
  hasChanges(serializer: SchemaSerializer<Schema>): boolean;
  /** Encodes the shared (unfiltered) pass into the encoder's buffer, after a first byte. */
  encodeShared(serializer: SchemaSerializer<Schema>, firstByte: number, it: Cursor): Uint8Array;
  /**
   * Splits the room's change queue: `fanOut`, trees whose view-pass bytes do not depend on
   * the viewer (a filtered Schema without @view fields, a filtered map of primitives), and
   * `perView`, those that need the stock per-view encoder. Queue nodes come from `pool`.
   */
  splitChanges(serializer: SchemaSerializer<Schema>, pool: unknown[]): { fanOut: ChangeQueue; perView: ChangeQueue };
  isEmpty(queue: ChangeQueue): boolean;
  /**
   * Encodes every tree of `queue` once into `buffer` through a view that sees all, calling
   * `onTree(tree, offset)` where each tree's bytes begin. Returns the buffer (grown if needed).
   * The encoder re-runs a pass after growing its buffer: `onTree` may see an offset go back.
   */
  encodeEach(serializer: SchemaSerializer<Schema>, queue: ChangeQueue, buffer: Uint8Array, it: Cursor, onTree: (tree: Tree, offset: number) => void): Uint8Array;
  /** The stock per-view encode of `view` over `queue` (adds, removes, viewer-dependent trees). */
  encodeView(serializer: SchemaSerializer<Schema>, queue: ChangeQueue, view: StateView, sharedOffset: number, it: Cursor): Uint8Array;
  discardChanges(serializer: SchemaSerializer<Schema>): void;
  /** The visibility bitmap of a tree (bit `id` set: view `id` sees it), or undefined. */
  viewBits(tree: Tree): number[] | undefined;
  /** For a collection visible wherever its parent is: the parent's bitmap; else undefined. */
  inheritedViewBits(tree: Tree): number[] | undefined;
  /** The tree of a schema instance (diagnostics). */
  treeOf(ref: object): Tree | undefined;
  /** A view's id (index into visibility bitmaps), or -1. */
  viewId(view: StateView | undefined): number;
  /** True when the view has adds or removes of its own to send. */
  viewHasChanges(view: StateView): boolean;
  /**
   * True when Colyseus closed `client` for sending more than `maxPerSecond` messages (its
   * flood guard), as opposed to the other 4002 it sends: a stale socket replaced by a
   * reconnection. Reads the per-client counter Colyseus keeps.
   */
  wasCutForFlooding(client: unknown, maxPerSecond: number): boolean;
  /**
   * Creates a room on another process of the cluster and resolves with its listing: the
   * request `matchMaker.createRoom` itself sends a process it picked (on that process's
   * channel, `p:<processId>`). A draining process needs it: once shutting down, Colyseus
   * creates every room locally.
   */
  createRoomOnProcess(processId: string, roomName: string, options: Record<string, unknown>, timeoutMs: number): Promise<IRoomCache>;
  /**
   * The room's reserved seats (matchmaking gave them out; their clients have not finished
   * joining): the seat's auth data, and whether its client is joining now (`consumed`).
   * Colyseus keeps them as `_reservedSeats[sessionId] = [options, auth, consumed, reconnection]`.
   */
  reservedSeats(room: Room): Array<{ sessionId: string; auth: unknown; consumed: boolean }>;
}

/** Runs `encode` with the encoder walking `queue` instead of the room's whole change queue. */
function withQueue(encoder: EncoderShape, queue: ChangeQueue, encode: () => Uint8Array): Uint8Array {
  const full = encoder.root.changes;
  encoder.root.changes = queue;
  try {
    return encode();
  } finally {
    encoder.root.changes = full;
  }
}

const enc = (s: SchemaSerializer<Schema>) => (s as unknown as SerializerShape).encoder;
const shape = (t: Tree) => t as unknown as TreeShape;

/** The internals as they are in VERIFIED_VERSIONS. */
export const colyseusInternals: ColyseusInternals = {
  serializerOf<S extends Schema>(room: Room) {
    return (room as unknown as { _serializer: SchemaSerializer<S> })._serializer;
  },
  adopt(target, stock) {
    return Object.assign(target, stock);
  },
  hasChanges: (s) => enc(s).hasChanges,
  encodeShared(s, firstByte, it) {
    const encoder = enc(s);
    encoder.sharedBuffer[0] = firstByte;
    return encoder.encode(it);
  },
  splitChanges(s, pool) {
    const nodes = pool as QueueNode[];
    const fanOut: ChangeQueue = { next: undefined, tail: undefined, nextPosition: 0 };
    const perView: ChangeQueue = { next: undefined, tail: undefined, nextPosition: 0 };
    let used = 0;
    for (let node = enc(s).root.changes.next; node !== undefined; node = node.next) {
      const tree = node.changeTree as unknown as TreeShape;
      const desc = tree.encDescriptor;
      let target: ChangeQueue | undefined;
      if (!tree.isFiltered) {
        // Unfiltered trees belong to the shared pass, unless they carry @view fields.
        if (desc.isSchema && desc.filterBitmask !== 0) target = perView;
      } else {
        const viewerIndependent = desc.isSchema ? desc.filter === undefined && desc.filterBitmask === 0 : typeof tree.ref[$childType] === "string";
        target = viewerIndependent ? fanOut : perView;
      }
      if (target === undefined) continue;
      const copy = nodes[used] ?? (nodes[used] = { changeTree: node.changeTree, next: undefined });
      used++;
      copy.changeTree = node.changeTree;
      copy.next = undefined;
      if (target.tail) target.tail.next = copy;
      else target.next = copy;
      target.tail = copy;
    }
    return { fanOut, perView };
  },
  isEmpty: (q) => q.next === undefined,
  encodeEach(s, queue, buffer, it, onTree) {
    const encoder = enc(s);
    const recorder = {
      isChangeTreeVisible(tree: ChangeTree) {
        onTree(tree as unknown as Tree, it.offset);
        return true;
      },
    };
    return withQueue(encoder, queue, () => encoder.encode(it, recorder, buffer));
  },
  encodeView(s, queue, view, sharedOffset, it) {
    const encoder = enc(s);
    return withQueue(encoder, queue, () => encoder.encodeView(view, sharedOffset, it));
  },
  discardChanges: (s) => enc(s).discardChanges(),
  viewBits: (t) => shape(t).visibleViews,
  inheritedViewBits(t) {
    const tree = shape(t);
    return tree.isVisibilitySharedWithParent ? tree.parent?.[$changes]?.visibleViews : undefined;
  },
  treeOf: (ref) => (ref as Record<symbol, unknown>)[$changes] as Tree | undefined,
  viewId: (view) => (view && view.id >= 0 ? view.id : -1),
  viewHasChanges: (view) => view.changes.size > 0,
  wasCutForFlooding: (client, maxPerSecond) => ((client as { _numMessagesLastSecond?: number })._numMessagesLastSecond ?? 0) > maxPerSecond,
  // The process channel's name is private to MatchMaker (getProcessChannel); its handler
  // calls handleCreateRoom(roomName, options) for a request with no method.
  createRoomOnProcess: (processId, roomName, options, timeoutMs) =>
    requestFromIPC(matchMaker.presence, `p:${processId}`, undefined, [roomName, options], timeoutMs) as Promise<IRoomCache>,
  reservedSeats(room) {
    const seats = (room as unknown as { _reservedSeats?: Record<string, [unknown, unknown, boolean, boolean]> })._reservedSeats ?? {};
    return Object.entries(seats).map(([sessionId, [, auth, consumed]]) => ({ sessionId, auth, consumed: consumed === true }));
  },
};
