/*
** relext-dqlite.c -- a dqlite node with relext on every connection.
**
**   relext-dqlite node EXT ID ADDRESS DIR
**       Start dqlite node ID (1 bootstraps a new cluster) listening on
**       ADDRESS (host:port), keeping its Raft log and snapshots in DIR;
**       relext (EXT: the path of relext.so) is registered with
**       sqlite3_auto_extension() before dqlite_node_create(), so every
**       connection dqlite opens has it. Runs until SIGTERM or SIGINT.
**   relext-dqlite join CLUSTER ID ADDRESS
**       Ask the cluster (CLUSTER: the address of any of its nodes) to add
**       node ID at ADDRESS and make it a voter. libdqlite has no C call for
**       this and the go-dqlite shell no command: it sends the wire
**       protocol's ADD (type 12) and ASSIGN (type 13) requests to the leader.
**   relext-dqlite transfer CLUSTER ID
**       Ask the leader to hand leadership to node ID (TRANSFER, type 17).
**
** dqlite links the system's libsqlite3, which this program shares with it.
** Build: `make relext-dqlite` (mk/cluster.mk).
*/
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dlfcn.h>
#include <dqlite.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*InitFunc)(sqlite3 *, char **, const sqlite3_api_routines *);

static int nodeMain(const char *zExt, dqlite_node_id id, const char *zAddr,
                    const char *zDir) {
  void *h;
  InitFunc xInit;
  dqlite_node *pNode = 0;
  sigset_t set;
  int sig, rc;

  /* A follower writing to the socket of a leader that died must not die. */
  signal(SIGPIPE, SIG_IGN);

  h = dlopen(zExt, RTLD_NOW | RTLD_LOCAL);
  if (h == 0) {
    fprintf(stderr, "relext-dqlite: %s\n", dlerror());
    return 1;
  }
  xInit = (InitFunc)dlsym(h, "sqlite3_relext_init");
  if (xInit == 0) {
    fprintf(stderr, "relext-dqlite: %s: no sqlite3_relext_init\n", zExt);
    return 1;
  }
  rc = sqlite3_auto_extension((void (*)(void))xInit);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "relext-dqlite: sqlite3_auto_extension: %s\n",
            sqlite3_errstr(rc));
    return 1;
  }

  rc = dqlite_node_create(id, zAddr, zDir, &pNode);
  if (rc == 0) rc = dqlite_node_set_bind_address(pNode, zAddr);
  if (rc == 0) rc = dqlite_node_start(pNode);
  if (rc != 0) {
    fprintf(stderr, "relext-dqlite: node %llu: %s (%d)\n",
            (unsigned long long)id, pNode ? dqlite_node_errmsg(pNode) : "?",
            rc);
    if (pNode) dqlite_node_destroy(pNode);
    return 1;
  }
  printf("relext-dqlite: node %llu on %s, relext %s\n", (unsigned long long)id,
         zAddr, zExt);
  fflush(stdout);

  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, 0);
  sigwait(&set, &sig);

  dqlite_node_stop(pNode);
  dqlite_node_destroy(pNode);
  return 0;
}

/* ---- a minimal client of dqlite's wire protocol (version 1) ------------ */

#define REQ_LEADER 0
#define REQ_ADD 12
#define REQ_ASSIGN 13
#define REQ_TRANSFER 17
#define RESP_FAILURE 0
#define RESP_SERVER 1
#define RESP_EMPTY 8
#define ROLE_VOTER 0

static int netConnect(const char *zAddr) {
  char zHost[256];
  const char *zColon = strrchr(zAddr, ':');
  struct addrinfo hints, *pRes = 0;
  int fd;
  if (zColon == 0 || (size_t)(zColon - zAddr) >= sizeof(zHost)) return -1;
  memcpy(zHost, zAddr, (size_t)(zColon - zAddr));
  zHost[zColon - zAddr] = 0;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(zHost, zColon + 1, &hints, &pRes) != 0) return -1;
  fd = socket(pRes->ai_family, pRes->ai_socktype, pRes->ai_protocol);
  if (fd >= 0 && connect(fd, pRes->ai_addr, pRes->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(pRes);
  if (fd >= 0) {
    uint8_t v[8] = {1, 0, 0, 0, 0, 0, 0, 0}; /* protocol version 1 */
    if (write(fd, v, 8) != 8) {
      close(fd);
      fd = -1;
    }
  }
  return fd;
}

static void put64(uint8_t *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static int readAll(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = read(fd, p, n);
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Send a request whose body is aBody[0..nBody) (a multiple of 8 bytes);
** read the response into *ppBody (malloc'd) and return its type, or -1. */
static int roundTrip(int fd, int eType, const uint8_t *aBody, size_t nBody,
                     uint8_t **ppBody, size_t *pnBody) {
  uint8_t aHdr[8] = {0};
  uint32_t nWord = (uint32_t)(nBody / 8);
  int i;
  for (i = 0; i < 4; i++) aHdr[i] = (uint8_t)(nWord >> (8 * i));
  aHdr[4] = (uint8_t)eType;
  if (write(fd, aHdr, 8) != 8) return -1;
  if (nBody && write(fd, aBody, nBody) != (ssize_t)nBody) return -1;
  if (readAll(fd, aHdr, 8)) return -1;
  nWord = (uint32_t)aHdr[0] | (uint32_t)aHdr[1] << 8 |
          (uint32_t)aHdr[2] << 16 | (uint32_t)aHdr[3] << 24;
  *pnBody = (size_t)nWord * 8;
  *ppBody = calloc(1, *pnBody + 1);
  if (*ppBody == 0 || readAll(fd, *ppBody, *pnBody)) return -1;
  return aHdr[4];
}

/* Send a request that expects EMPTY; report a FAILURE. */
static int expectEmpty(int fd, const char *zWhat, int eType,
                       const uint8_t *aBody, size_t nBody) {
  uint8_t *pResp = 0;
  size_t nResp = 0;
  int eResp = roundTrip(fd, eType, aBody, nBody, &pResp, &nResp);
  int rc = 0;
  if (eResp == RESP_FAILURE && nResp >= 8) {
    fprintf(stderr, "relext-dqlite: %s: %s (%llu)\n", zWhat,
            (const char *)pResp + 8, (unsigned long long)get64(pResp));
    rc = 1;
  } else if (eResp != RESP_EMPTY) {
    fprintf(stderr, "relext-dqlite: %s: unexpected response %d\n", zWhat,
            eResp);
    rc = 1;
  }
  free(pResp);
  return rc;
}

/* eReq: REQ_ADD (then ASSIGN) or REQ_TRANSFER. */
static int adminMain(int eReq, const char *zCluster, dqlite_node_id id,
                     const char *zAddr) {
  uint8_t aBody[8 + 256];
  uint8_t *pResp = 0;
  size_t nResp = 0, nAddr = strlen(zAddr);
  char zLeader[256];
  int fd, eResp, rc;

  if (nAddr > 240) return 1;
  /* Find the leader. */
  fd = netConnect(zCluster);
  if (fd < 0) {
    fprintf(stderr, "relext-dqlite: cannot connect to %s\n", zCluster);
    return 1;
  }
  put64(aBody, 0);
  eResp = roundTrip(fd, REQ_LEADER, aBody, 8, &pResp, &nResp);
  close(fd);
  if (eResp != RESP_SERVER || nResp < 16 || pResp[8] == 0) {
    fprintf(stderr, "relext-dqlite: %s knows no leader\n", zCluster);
    free(pResp);
    return 1;
  }
  snprintf(zLeader, sizeof(zLeader), "%s", (const char *)pResp + 8);
  free(pResp);

  fd = netConnect(zLeader);
  if (fd < 0) {
    fprintf(stderr, "relext-dqlite: cannot connect to leader %s\n", zLeader);
    return 1;
  }
  if (eReq == REQ_TRANSFER) {
    put64(aBody, id);
    rc = expectEmpty(fd, "transfer", REQ_TRANSFER, aBody, 8);
    close(fd);
    if (rc == 0) {
      printf("relext-dqlite: leadership moved from %s to node %llu\n",
             zLeader, (unsigned long long)id);
    }
    return rc;
  }
  /* ADD: id, address (NUL-terminated, padded to 8 bytes). */
  memset(aBody, 0, sizeof(aBody));
  put64(aBody, id);
  memcpy(aBody + 8, zAddr, nAddr);
  rc = expectEmpty(fd, "add", REQ_ADD, aBody, 8 + (nAddr + 1 + 7) / 8 * 8);
  /* ASSIGN: id, role. */
  if (rc == 0) {
    put64(aBody, id);
    put64(aBody + 8, ROLE_VOTER);
    rc = expectEmpty(fd, "assign", REQ_ASSIGN, aBody, 16);
  }
  close(fd);
  if (rc == 0) {
    printf("relext-dqlite: node %llu (%s) joined through leader %s\n",
           (unsigned long long)id, zAddr, zLeader);
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "node") == 0) {
    return nodeMain(argv[2], strtoull(argv[3], 0, 10), argv[4], argv[5]);
  }
  if (argc == 5 && strcmp(argv[1], "join") == 0) {
    return adminMain(REQ_ADD, argv[2], strtoull(argv[3], 0, 10), argv[4]);
  }
  if (argc == 4 && strcmp(argv[1], "transfer") == 0) {
    return adminMain(REQ_TRANSFER, argv[2], strtoull(argv[3], 0, 10), "");
  }
  fprintf(stderr, "usage: relext-dqlite node EXT ID ADDRESS DIR\n"
                  "       relext-dqlite join CLUSTER ID ADDRESS\n"
                  "       relext-dqlite transfer CLUSTER ID\n");
  return 2;
}
