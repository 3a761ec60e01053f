#pragma once
// Pistache 0.0.5 never closes the sockets of connections that are still
// open when its endpoint shuts down (Peer's destructor does not close the
// fd), so their clients wait forever on a server that will not answer, and
// the process leaks the fds. After the endpoint is destroyed (its threads
// joined: nothing uses those fds any more), this closes every socket of the
// process whose local port is `port` and that is not listening — exactly
// the server's accepted connections (client sockets to that port have an
// ephemeral local port). Linux only (/proc/self/fd). Returns how many it
// closed.
#include <cstddef>
#include <cstdint>

namespace jobtrail::http {

size_t CloseAcceptedSockets(uint16_t port);

}  // namespace jobtrail::http
