/**
 * The QEMU line's guest agent (protocol 2, docs/guest-agent.md): a small C program compiled
 * statically on the host when the guest image is built (gcc and libc6-dev), because a busybox
 * shell loop cannot stream binary output apart on stdout and stderr at virtio speed. Kept as a
 * string so that the compiled package carries it without a copy step.
 */

/** Version of the framed agent protocol; PONG carries it. */
export const FRAMED_PROTOCOL_VERSION = 2

/** The virtio-serial port name the agent looks for under /sys/class/virtio-ports. */
export const AGENT_PORT_NAME = 'org.vmplant.agent.0'

export const AGENT_C_SOURCE = String.raw`/* vmplant guest agent, protocol ${FRAMED_PROTOCOL_VERSION} (docs/guest-agent.md) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR 20
#define MAXREQ (4u << 20)
#define CHUNK (256 * 1024)
enum { PING = 1, RUN = 2, SETMAC = 3, PONG = 17, OUT = 18, ERR = 19, EXIT = 20 };

static int port = -1;
static unsigned char *req;
static unsigned char frame[HDR + CHUNK];
static sigset_t waitset;

static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const unsigned char *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* writes all of it; blocks while no host is connected (the kernel holds the write) */
static void send_all(const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(port, p, n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) { struct pollfd pf = { port, POLLOUT, 0 }; poll(&pf, 1, 100); continue; }
      return;
    }
    p += w; n -= (size_t)w;
  }
}

/* frame[HDR..HDR+len) holds the payload already */
static void send_frame(int type, const unsigned char *id, uint32_t len) {
  memcpy(frame, "VMPA", 4);
  frame[4] = (unsigned char)type; frame[5] = frame[6] = frame[7] = 0;
  memcpy(frame + 8, id, 8);
  put32(frame + 16, len);
  send_all(frame, HDR + len);
}

static void send_exit(const unsigned char *id, int32_t code, int timed) {
  put32(frame + HDR, (uint32_t)code);
  frame[HDR + 4] = (unsigned char)timed;
  send_frame(EXIT, id, 5);
}

static void send_text(int type, const unsigned char *id, const char *text) {
  size_t n = strlen(text);
  if (n > CHUNK) n = CHUNK;
  memcpy(frame + HDR, text, n);
  send_frame(type, id, (uint32_t)n);
}

/* reads exactly n bytes; 0 when the host went away (EOF), so the caller drops the partial request */
static int recv_all(unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(port, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    p += r; n -= (size_t)r;
  }
  return 1;
}

/* no host connected: reads return EOF at once, so wait for the kernel's SIGIO (host opened) */
static void wait_for_host(void) {
  struct timespec t = { 0, 200 * 1000000 };
  sigtimedwait(&waitset, NULL, &t);
}

static void drain(int *fd, int type, const unsigned char *id) {
  for (;;) {
    ssize_t r = read(*fd, frame + HDR, CHUNK);
    if (r > 0) { send_frame(type, id, (uint32_t)r); continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || errno != EAGAIN) { close(*fd); *fd = -1; }
    return;
  }
}

static void run(const unsigned char *id, const unsigned char *payload, uint32_t len, int sfd) {
  if (len < 4) { send_text(ERR, id, "vmplant-agent: RUN without a timeout\n"); send_exit(id, 126, 0); return; }
  uint32_t timeout = get32(payload);
  int fd = open("/run/vmplant-agent/script", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, payload + 4, len - 4) != (ssize_t)(len - 4)) {
    if (fd >= 0) close(fd);
    send_text(ERR, id, "vmplant-agent: cannot write the script\n"); send_exit(id, 126, 0); return;
  }
  close(fd);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) { send_text(ERR, id, "vmplant-agent: pipe failed\n"); send_exit(id, 126, 0); return; }
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none; sigemptyset(&none); sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0); dup2(out[1], 1); dup2(err[1], 2);
    if (chdir("/") != 0) _exit(126);
    execl("/bin/sh", "sh", "/run/vmplant-agent/script", (char *)NULL);
    _exit(127);
  }
  close(out[1]); close(err[1]);
  if (pid < 0) { close(out[0]); close(err[0]); send_text(ERR, id, "vmplant-agent: fork failed\n"); send_exit(id, 126, 0); return; }
  fcntl(out[0], F_SETFL, O_NONBLOCK); fcntl(err[0], F_SETFL, O_NONBLOCK);
  /* a larger pipe means fewer, larger frames */
  fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
  int64_t deadline = now_ms() + timeout;
  int status = 0, timed = 0, reaped = 0;
  while (!reaped) {
    struct pollfd pf[3] = { { sfd, POLLIN, 0 }, { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      kill(-pid, SIGKILL); kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      timed = 1; reaped = 1;
      break;
    }
    int n = poll(pf, 3, left > 1000 ? 1000 : (int)left);
    if (n < 0 && errno != EINTR) break;
    if (pf[0].revents & POLLIN) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} }
    if (out[0] >= 0 && (pf[1].revents & (POLLIN | POLLHUP))) drain(&out[0], OUT, id);
    if (err[0] >= 0 && (pf[2].revents & (POLLIN | POLLHUP))) drain(&err[0], ERR, id);
    if (waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
  }
  /* what the script wrote before it ended; background processes that keep the pipes are not waited for */
  if (out[0] >= 0) { drain(&out[0], OUT, id); if (out[0] >= 0) close(out[0]); }
  if (err[0] >= 0) { drain(&err[0], ERR, id); if (err[0] >= 0) close(err[0]); }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 126;
  send_exit(id, code, timed);
}

static void setmac(const unsigned char *id, const unsigned char *payload, uint32_t len) {
  if (len < 7 || len - 6 >= IFNAMSIZ) { send_text(ERR, id, "vmplant-agent: bad SETMAC\n"); send_exit(id, 22, 0); return; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, payload + 6, len - 6);
  ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  memcpy(ifr.ifr_hwaddr.sa_data, payload, 6);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int rc = s < 0 ? errno : ioctl(s, SIOCSIFHWADDR, &ifr) < 0 ? errno : 0;
  if (s >= 0) close(s);
  if (rc != 0) { char msg[160]; snprintf(msg, sizeof msg, "vmplant-agent: cannot set the MAC of %s: %s\n", ifr.ifr_name, strerror(rc)); send_text(ERR, id, msg); }
  send_exit(id, rc, 0);
}

static int open_port(const char *name) {
  for (int tries = 0; tries < 1000; tries++) {
    DIR *d = opendir("/sys/class/virtio-ports");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[300], got[128] = "";
      snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
      FILE *f = fopen(path, "r");
      if (f == NULL) continue;
      if (fgets(got, sizeof got, f) == NULL) got[0] = 0;
      fclose(f);
      got[strcspn(got, "\n")] = 0;
      if (strcmp(got, name) == 0) {
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        closedir(d);
        return open(path, O_RDWR | O_CLOEXEC);
      }
    }
    if (d != NULL) closedir(d);
    usleep(10000);
  }
  return -1;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "${AGENT_PORT_NAME}";
  signal(SIGPIPE, SIG_IGN);
  mkdir("/run/vmplant-agent", 0700);
  sigemptyset(&waitset); sigaddset(&waitset, SIGIO);
  sigset_t blocked = waitset; sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, NULL);
  sigset_t chld; sigemptyset(&chld); sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  port = open_port(name);
  if (port < 0) { fprintf(stderr, "vmplant-agent: no virtio port named %s\n", name); return 1; }
  fcntl(port, F_SETOWN, getpid());
  fcntl(port, F_SETFL, fcntl(port, F_GETFL) | O_ASYNC);
  req = malloc(MAXREQ);
  unsigned char hdr[HDR];
  for (;;) {
    if (!recv_all(hdr, 4)) { wait_for_host(); continue; }
    /* resynchronise on the magic: a host that left may have cut a request */
    while (memcmp(hdr, "VMPA", 4) != 0) {
      memmove(hdr, hdr + 1, 3);
      if (!recv_all(hdr + 3, 1)) break;
    }
    if (memcmp(hdr, "VMPA", 4) != 0 || !recv_all(hdr + 4, HDR - 4)) { wait_for_host(); continue; }
    uint32_t len = get32(hdr + 16);
    const unsigned char *id = hdr + 8;
    if (len > MAXREQ) {
      /* skip it, answering with an error */
      for (uint32_t left = len; left > 0;) { uint32_t n = left > CHUNK ? CHUNK : left; if (!recv_all(frame, n)) break; left -= n; }
      send_text(ERR, id, "vmplant-agent: request too large\n"); send_exit(id, 126, 0);
      continue;
    }
    if (!recv_all(req, len)) { wait_for_host(); continue; }
    switch (hdr[4]) {
    case PING: put32(frame + HDR, ${FRAMED_PROTOCOL_VERSION}); send_frame(PONG, id, 4); break;
    case RUN: run(id, req, len, sfd); break;
    case SETMAC: setmac(id, req, len); break;
    default: send_text(ERR, id, "vmplant-agent: unknown request\n"); send_exit(id, 126, 0);
    }
  }
}
`
