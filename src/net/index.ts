export { addressKind, isPermitted, type AddressKind } from './ranges.js';
export {
  AddressNotAllowed,
  Outbound,
  addressRefusal,
  systemLookup,
  type HostLookup,
  type OutboundFetch,
  type OutboundInit,
  type OutboundOptions,
  type ResolvedAddress,
} from './guard.js';
