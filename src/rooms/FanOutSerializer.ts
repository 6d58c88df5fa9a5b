import { type Client, ClientState, Protocol, SchemaSerializer } from "@colyseus/core";
import { $changes, $childType, type ChangeTree, type Schema, type StateView } from "@colyseus/schema";

/** A node of a change queue, as the encoder walks it. */
interface QueueNode {
  changeTree: ChangeTree;
  next?: QueueNode;
}
interface ChangeQueue {
  next?: QueueNode;
  tail?: QueueNode;
  nextPosition: number;
}
/** The encoder internals this serializer reads (stable within @colyseus/schema 5). */
interface EncoderInternals {
  root: { changes: ChangeQueue };
  sharedBuffer: Uint8Array;
  encode(it: { offset: number }, view?: unknown, buffer?: Uint8Array): Uint8Array;
  encodeView(view: StateView, sharedOffset: number, it: { offset: number }): Uint8Array;
  discardChanges(): void;
  hasChanges: boolean;
}
interface TreeInternals {
  isFiltered: boolean;
  isVisibilitySharedWithParent: boolean;
  visibleViews?: number[];
  parent?: { [$changes]: TreeInternals };
  ref: Record<symbol, unknown>;
  encDescriptor: { isSchema: boolean; filter?: unknown; filterBitmask: number };
}

/**
 * A SchemaSerializer whose per-client patch costs what that client sees, not what changed
 * in the whole room.
 *
 * Stock Colyseus encodes each client's StateView by walking the room's entire change queue
 * and testing every changed entity for visibility: clients x changes per patch. Here each
 * changed filtered entity whose bytes do not depend on the viewer (a Schema without @view
 * fields, or a map of primitives) is encoded once, and its bytes are appended to the frames
 * of exactly the views whose visibility bitmap holds it. Everything else (view adds and
 * removes, changes to collections of filtered children, @view-tagged fields) still goes
 * through the stock per-view encoder, over a queue holding only those few trees.
 *
 * The bytes are the ones the stock encoder would produce for the same changes; the view
 * part of a frame puts the viewer-independent segments last, after the view's own adds.
 */
export class FanOutSerializer<T extends Schema> extends SchemaSerializer<T> {
  private scratch = new Uint8Array(64 * 1024);
  /** Segment start offsets in `scratch`, and the trees they belong to, for this patch. */
  private readonly segTree: TreeInternals[] = [];
  private readonly segStart: number[] = [];
  /** Per view id: the segment indexes it sees this patch. */
  private readonly segsByView: number[][] = [];
  private readonly viewById = new Map<number, StateView>();
  private segIndex?: Map<TreeInternals, number>;

  /**
   * Takes over a stock serializer that already holds the room's state. (A state can be bound
   * to one encoder only: resetting a second serializer with it breaks the first binding, and
   * assigning `room.state` always creates a stock serializer.)
   */
  static adopt<S extends Schema>(stock: SchemaSerializer<S>): FanOutSerializer<S> {
    // Copies the stock serializer's fields (its encoder above all); ours are not among them.
    return Object.assign(new FanOutSerializer<S>(), stock);
  }

  override applyPatches(clients: Client[], state?: unknown, timing?: Parameters<SchemaSerializer<T>["applyPatches"]>[2]): boolean {
    const encoder = this.encoder as unknown as EncoderInternals;
    if (timing || !this.hasFilters || clients.length === 0 || !encoder.hasChanges) {
      return super.applyPatches(clients, state, timing);
    }
    this.needFullEncode = true;
    const it = { offset: 1 };
    encoder.sharedBuffer[0] = Protocol.ROOM_STATE_PATCH;
    // A copy: the encoder's buffer is overwritten by the next patch while a socket may
    // still hold the frame.
    const shared = encoder.encode(it).slice();
    const sharedOffset = it.offset;

    const full = encoder.root.changes;
    const { fanOut, perView } = splitQueue(full);
    this.encodeSegments(encoder, fanOut);
    const end = this.segStart.length ? this.scratchEnd : 0;
    this.collectWatchers(clients);

    const frames = new Map<StateView, Uint8Array>();
    for (const client of clients) {
      if (client.state !== ClientState.JOINED) continue;
      const view = client.view as StateView | undefined;
      if (!view) {
        client.raw(shared);
        continue;
      }
      let frame = frames.get(view);
      if (frame === undefined) {
        let head: Uint8Array = shared;
        if (view.changes.size > 0 || perView.next !== undefined) {
          encoder.root.changes = perView;
          it.offset = sharedOffset;
          try {
            head = encoder.encodeView(view, sharedOffset, it);
          } finally {
            encoder.root.changes = full;
          }
        }
        frame = this.appendSegments(head, view.id >= 0 ? this.segsByView[view.id] : undefined, end);
        frames.set(view, frame);
      }
      client.raw(frame);
    }
    for (const list of this.segsByView) if (list) list.length = 0;
    encoder.discardChanges();
    return true;
  }

  private scratchEnd = 0;

  /**
   * Diagnostics (benchmarks): bytes of the last patch's segment for `ref`, or 0 when it had
   * none. Not for the hot path.
   */
  lastSegmentBytes(ref: object): number {
    const tree = (ref as Record<symbol, unknown>)[$changes];
    this.segIndex ??= new Map(this.segTree.map((t, i) => [t, i]));
    const i = this.segIndex.get(tree as TreeInternals);
    if (i === undefined) return 0;
    return (i + 1 < this.segStart.length ? this.segStart[i + 1] : this.scratchEnd) - this.segStart[i];
  }

  /** Encodes every fan-out tree once, into `scratch`, remembering where each one starts. */
  private encodeSegments(encoder: EncoderInternals, queue: ChangeQueue): void {
    const trees = this.segTree;
    const starts = this.segStart;
    trees.length = 0;
    starts.length = 0;
    this.segIndex = undefined;
    if (queue.next === undefined) return;
    const it = { offset: 0 };
    // A view that sees everything and notes where each tree's bytes begin. The encoder
    // re-runs the whole pass after growing its buffer, so a step back restarts the notes.
    const recorder = {
      isChangeTreeVisible: (tree: TreeInternals) => {
        if (starts.length > 0 && it.offset < starts[starts.length - 1]) {
          trees.length = 0;
          starts.length = 0;
        }
        trees.push(tree);
        starts.push(it.offset);
        return true;
      },
    };
    const full = encoder.root.changes;
    encoder.root.changes = queue;
    try {
      const out = encoder.encode(it, recorder, this.scratch);
      if (out.buffer !== this.scratch.buffer) this.scratch = new Uint8Array(out.buffer as ArrayBuffer);
      this.scratchEnd = it.offset;
    } finally {
      encoder.root.changes = full;
    }
  }

  /** For each segment, the views whose visibility bitmap holds its tree (or its parent's). */
  private collectWatchers(clients: Client[]): void {
    this.viewById.clear();
    for (const c of clients) {
      const v = c.view as StateView | undefined;
      if (v && v.id >= 0) this.viewById.set(v.id, v);
    }
    const byView = this.segsByView;
    for (let i = 0; i < this.segTree.length; i++) {
      const tree = this.segTree[i];
      const own = tree.visibleViews;
      const inherited = tree.isVisibilitySharedWithParent ? tree.parent?.[$changes]?.visibleViews : undefined;
      const words = Math.max(own?.length ?? 0, inherited?.length ?? 0);
      for (let w = 0; w < words; w++) {
        let bits = ((own?.[w] ?? 0) | (inherited?.[w] ?? 0)) >>> 0;
        while (bits !== 0) {
          const low = bits & -bits;
          const id = w * 32 + (31 - Math.clz32(low));
          bits = (bits ^ low) >>> 0;
          if (!this.viewById.has(id)) continue;
          (byView[id] ??= []).push(i);
        }
      }
    }
  }

  /** `head` followed by the given segments of `scratch`. */
  private appendSegments(head: Uint8Array, segs: number[] | undefined, end: number): Uint8Array {
    if (!segs || segs.length === 0) return head;
    const starts = this.segStart;
    let size = head.length;
    for (const s of segs) size += (s + 1 < starts.length ? starts[s + 1] : end) - starts[s];
    const out = new Uint8Array(size);
    out.set(head, 0);
    let offset = head.length;
    for (const s of segs) {
      const to = s + 1 < starts.length ? starts[s + 1] : end;
      out.set(this.scratch.subarray(starts[s], to), offset);
      offset += to - starts[s];
    }
    return out;
  }
}

/**
 * Splits a change queue: trees whose view-pass bytes do not depend on the viewer (fan-out),
 * and trees that need the stock per-view encoder. Trees with nothing for the view pass
 * (unfiltered, untagged) are left to the shared pass.
 */
function splitQueue(queue: ChangeQueue): { fanOut: ChangeQueue; perView: ChangeQueue } {
  const fanOut: ChangeQueue = { next: undefined, tail: undefined, nextPosition: 0 };
  const perView: ChangeQueue = { next: undefined, tail: undefined, nextPosition: 0 };
  for (let node = queue.next; node !== undefined; node = node.next) {
    const tree = node.changeTree as unknown as TreeInternals;
    const desc = tree.encDescriptor;
    if (!tree.isFiltered) {
      if (desc.isSchema && desc.filterBitmask !== 0) append(perView, node.changeTree);
      continue;
    }
    const viewerIndependent = desc.isSchema
      ? desc.filter === undefined && desc.filterBitmask === 0
      : typeof tree.ref[$childType] === "string";
    append(viewerIndependent ? fanOut : perView, node.changeTree);
  }
  return { fanOut, perView };
}

function append(queue: ChangeQueue, changeTree: ChangeTree): void {
  const node: QueueNode = { changeTree, next: undefined };
  if (queue.tail) queue.tail.next = node;
  else queue.next = node;
  queue.tail = node;
}
