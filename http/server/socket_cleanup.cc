#include "http/server/socket_cleanup.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace jobtrail::http {
namespace {

bool IsAcceptedSocketOn(int fd, uint16_t port) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  uint16_t local = 0;
  if (addr.ss_family == AF_INET) {
    local = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    local = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  } else {
    return false;
  }
  if (local != port) return false;
  int listening = 0;
  socklen_t optlen = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0) return false;
  return listening == 0;
}

}  // namespace

size_t CloseAcceptedSockets(uint16_t port) {
  std::vector<int> fds;
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd != own) fds.push_back(fd);
    }
    closedir(dir);
  }
  size_t closed = 0;
  for (int fd : fds) {
    if (!IsAcceptedSocketOn(fd, port)) continue;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    ++closed;
  }
  return closed;
}

}  // namespace jobtrail::http
