/**
 * The split world most region tests play in: a 2000 x 1000 map in two regions side by side
 * (x < 1000 the entry region "", x >= 1000 "1_0"), a 200-unit AoI, fast proximity updates.
 * A test adds or overrides what it needs.
 */
export function twoRegions<T extends object>(overrides: T = {} as T) {
  return {
    mapLimits: { lower: { x: 0, y: 0, z: 0 }, higher: { x: 2000, y: 1000, z: 0 } },
    regionSize: { x: 1000, y: 1000 },
    aoi: { x: 200, y: 200, z: 0 },
    aoiLeaveMargin: 20,
    proximityUpdateMillis: 50,
    maxMessagesPerSecond: 100,
    ...overrides,
  };
}
