export { SpatialGrid, cellSizeForAoi } from "./SpatialGrid";
export { Interest, type ProximityDiff } from "./Interest";
export { InterestManager, type ObserverInterest } from "./InterestManager";
export { insideBox, growVec, type Vec3 } from "../shared/vector";
