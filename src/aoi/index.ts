export { SpatialGrid, cellSizeForAoi } from "./SpatialGrid";
export { Interest, type ProximityDiff } from "./Interest";
export { InterestManager, type ObserverInterest } from "./InterestManager";
export { insideBox, growVec, type Vec3 } from "../shared/vector";
export { RANGE_DEFAULT, RANGE_FAR, RANGE_NEAR, type RangeKind, checkCustomAoi, checkVisibilityRange, formatVec, rangeKind } from "./ranges";
