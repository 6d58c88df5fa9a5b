export { joinWorld, onProximityUpdate, type Entered, type EntryPoint, type JoinWorldOptions, type ProximityUpdate } from "./proximity";
