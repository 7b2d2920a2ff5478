export { addressKind, inNetwork, isPermitted, parseNetwork, type AddressKind, type Network } from './ranges.js';
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
