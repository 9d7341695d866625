/** The client side of every hop between Bazar services: a balanced, probed, deadline-bound set of replicas. */
export { Upstream, backoffMs, type CallContext, type CallOptions, type UpstreamOptions } from './upstream';
export { UpstreamClient } from './upstream-client';
