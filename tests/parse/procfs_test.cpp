// The process and socket tables of a /proc: fixture trees shaped like the
// kernel's, malformed and truncated files, and the live /proc of this host.

#include "../support.hpp"
#include "../wait.hpp"

#include <bulwark/parse/proc_net.hpp>
#include <bulwark/parse/procfs.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::string status(const std::string &name, const std::string &uid, const std::string &gid) {
  // The shape of fs/proc/array.c's task_state(), abridged.
  return "Name:\t" + name + "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\nPid:\t1\n" + "Uid:\t" +
         uid + "\nGid:\t" + gid + "\nFDSize:\t64\nGroups:\t\n";
}

void process(const TempRoot &r, const std::string &pid, const std::string &comm,
             const std::string &argv, const std::string &ids = "0\t0\t0\t0") {
  r.write("/proc/" + pid + "/comm", comm + "\n");
  r.write("/proc/" + pid + "/cmdline", argv);
  r.write("/proc/" + pid + "/status", status(comm, ids, ids));
}

} // namespace

TEST(ProcStatus, ReadsRealEffectiveSavedAndFsIds) {
  auto s = procfs::parse_status(status("openvpn", "0\t65534\t65534\t65534", "0\t65534\t0\t65534"),
                                "/proc/9/status");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->name, "openvpn");
  EXPECT_EQ(s->uid->real, 0);
  EXPECT_EQ(s->uid->effective, 65534);
  EXPECT_EQ(s->gid->saved, 0);
  EXPECT_EQ(s->gid->fs, 65534);
}

TEST(ProcStatus, MalformedTruncatedAndHugeAreErrorsWithTheLine) {
  // Three ids (truncated), a name instead of an id, a sign, an id past 32 bits.
  for (const std::string bad :
       {"0\t0\t0", "root\t0\t0\t0", "-1\t0\t0\t0", "4294967296\t0\t0\t0", "0\t0\t0\t0\t0"}) {
    auto s = procfs::parse_status("Name:\tx\nUid:\t" + bad + "\nGid:\t0\t0\t0\t0\n", "/p/status");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().line, 2) << bad;
    EXPECT_EQ(s.error().path, "/p/status");
  }
  // Cut off before the Gid: line (a short read).
  auto cut = procfs::parse_status("Name:\tx\nUid:\t0\t0\t0\t0\nG", "/p/status");
  EXPECT_FALSE(cut.ok());
  EXPECT_FALSE(procfs::parse_status("", "/p/status").ok());
  // A huge status of unknown keys is read through, not trusted.
  std::string huge(1 << 20, 'x');
  auto h = procfs::parse_status(huge + "\n" + status("a", "1\t2\t3\t4", "5\t6\t7\t8"), "/p");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->uid->saved, 3);
  EXPECT_EQ(h->gid->fs, 8);
}

TEST(ProcCmdline, SplitsOnNulWithTheFinalNulOptional) {
  using V = std::vector<std::string>;
  EXPECT_EQ(procfs::parse_cmdline(std::string("openvpn\0--config\0a b.conf\0", 26)),
            (V{"openvpn", "--config", "a b.conf"}));
  EXPECT_EQ(procfs::parse_cmdline(std::string("sshd: alice [priv]")), (V{"sshd: alice [priv]"}));
  EXPECT_EQ(procfs::parse_cmdline(""), V{}); // a kernel thread
  EXPECT_EQ(procfs::parse_cmdline(std::string("a\0\0b", 4)), (V{"a", "", "b"}));
  EXPECT_EQ(procfs::base_name("/usr/sbin/openvpn"), "openvpn");
  EXPECT_EQ(procfs::base_name("openvpn"), "openvpn");
}

TEST(ProcTable, ReadsAFixtureProcAndSkipsWhatIsNotAProcess) {
  TempRoot r;
  process(r, "1", "systemd", std::string("/sbin/init\0", 11));
  process(r, "4242", "openvpn", std::string("/usr/sbin/openvpn\0--config\0server.conf\0", 39),
          "65534\t65534\t65534\t65534");
  r.symlink("/etc/openvpn/server", "/proc/4242/cwd");
  r.write("/proc/sys/kernel/hostname", "h\n");
  r.symlink("4242", "/proc/self");
  r.mkdir("/proc/77"); // exited between the listing and the read: no status
  RootFs fs(r.path());
  auto t = procfs::load_processes(fs);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  ASSERT_EQ(t->processes.size(), 2u);
  const procfs::Process &ovpn = t->processes[1];
  EXPECT_EQ(t->processes[0].pid, 1);
  EXPECT_EQ(ovpn.pid, 4242);
  EXPECT_EQ(ovpn.dir, "/proc/4242");
  EXPECT_EQ(ovpn.comm, "openvpn");
  EXPECT_EQ(ovpn.argv.size(), 3u);
  EXPECT_EQ(ovpn.argv[2], "server.conf");
  EXPECT_EQ(ovpn.uid.effective, 65534);
  EXPECT_EQ(ovpn.cwd, "/etc/openvpn/server");
  EXPECT_EQ(t->processes[0].cwd, ""); // unreadable or absent: empty
}

TEST(ProcTable, AMalformedStatusOrAnAbsentProcIsAnError) {
  TempRoot r;
  r.mkdir("/etc");
  RootFs fs(r.path());
  auto none = procfs::load_processes(fs);
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.error().not_found());
  r.write("/proc/5/status", "Name:\tx\nUid:\tzero\n");
  auto bad = procfs::load_processes(fs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "/proc/5/status");
  EXPECT_EQ(bad.error().line, 2);
}

TEST(ProcTable, StatThroughTheProcessRootSeesItsOwnFiles) {
  TempRoot r;
  process(r, "10", "openvpn", std::string("openvpn\0server.conf\0", 20));
  // The process's root is a directory of its own (a container's).
  r.write("/proc/10/root/etc/openvpn/server.conf", "dev tun\n");
  r.symlink("/etc/openvpn/server.conf", "/proc/10/root/etc/link.conf");
  r.write("/etc/openvpn/server.conf", "dev tun\n"); // the host's file of the same name
  RootFs fs(r.path());
  auto theirs = procfs::stat_in_process_root(fs, "/proc", 10, "/etc/openvpn/server.conf");
  auto linked = procfs::stat_in_process_root(fs, "/proc", 10, "/etc/link.conf");
  auto mine = fs.stat("/etc/openvpn/server.conf");
  ASSERT_TRUE(theirs.ok() && linked.ok() && mine.ok());
  EXPECT_NE(theirs->ino, mine->ino);
  // An absolute link inside the process's root stays inside it.
  EXPECT_EQ(linked->ino, theirs->ino);
  EXPECT_FALSE(procfs::stat_in_process_root(fs, "/proc", 11, "/etc/openvpn/server.conf").ok());
}

TEST(ProcTable, LiveHostSeesAChildWithItsIdsArgvAndCwd) {
  TempRoot dir;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::chdir(dir.path().c_str()) != 0)
      ::_exit(126);
    ::execl("/bin/sleep", "sleep", "30", static_cast<char *>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(bulwark::test::wait_for_exec(pid, "/bin/sleep")) << "sleep never started";
  RootFs host("/");
  auto t = procfs::load_processes(host);
  auto self = procfs::stat_in_process_root(host, "/proc", pid, dir.path());
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const procfs::Process *child = nullptr;
  for (auto &p : t->processes)
    if (p.pid == pid)
      child = &p;
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->comm, "sleep");
  EXPECT_EQ(child->argv, (std::vector<std::string>{"sleep", "30"}));
  EXPECT_EQ(child->uid.effective, static_cast<long>(::geteuid()));
  EXPECT_EQ(child->gid.real, static_cast<long>(::getgid()));
  EXPECT_EQ(child->cwd, dir.path());
  ASSERT_TRUE(self.ok()) << self.error().to_string();
  struct stat st;
  ASSERT_EQ(::stat(dir.path().c_str(), &st), 0);
  EXPECT_EQ(self->ino, static_cast<uint64_t>(st.st_ino));
}

// --- /proc/net -----------------------------------------------------------------

TEST(ProcNet, UdpListensUnconnectedAndTcpInListen) {
  std::string udp = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when\n"
                    "  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000\n"
                    "  101: 0100007F:0035 0100007F:9C40 01 00000000:00000000 00:00000000\n"
                    "  102: 0100007F:0035 0100007F:0000 07 00000000:00000000 00:00000000\n";
  auto t = procnet::parse_proc_net(udp, 17, fw::Family::v4, "/proc/net/udp");
  EXPECT_TRUE(t.errors.empty());
  ASSERT_EQ(t.listeners.size(), 1u); // a remote address set is a connected socket
  EXPECT_EQ(t.listeners[0].port, 68u);
  EXPECT_EQ(t.listeners[0].source, "/proc/net/udp:2");
}

TEST(ProcNet, MalformedAndTruncatedLinesAreErrorsWithTheirLine) {
  std::string hdr = "  sl  local_address rem_address   st\n";
  for (const std::string bad : {"   0: 0100007F:1538 00000000:0000\n",     // no state
                                "   0: 0100007F1538 00000000:0000 0A\n",   // no colon
                                "   0: 0100007G:1538 00000000:0000 0A\n",  // not hex
                                "   0: 100007F:1538 00000000:0000 0A\n",   // a short word
                                "   0: 0100007F:15380 00000000:0000 0A\n", // a port of five digits
                                "   0: 0100007F:1538 00000000:0000 0AA\n", // a state of three
                                "0100007F:1538 00000000:0000 0A 0\n"}) {   // no slot number
    auto t = procnet::parse_proc_net(hdr + bad, 6, fw::Family::v4, "/proc/net/tcp");
    ASSERT_EQ(t.errors.size(), 1u) << bad;
    EXPECT_EQ(t.errors[0].line, 2) << bad;
    EXPECT_TRUE(t.listeners.empty()) << bad;
  }
  // A v4 address in the v6 file is malformed too.
  auto mixed = procnet::parse_proc_net(hdr + "   0: 0100007F:1538 00000000:0000 0A\n", 6,
                                       fw::Family::v6, "/proc/net/tcp6");
  EXPECT_EQ(mixed.errors.size(), 1u);
  // Huge: many sockets, all read.
  std::string many = hdr;
  for (int i = 0; i < 20000; ++i)
    many += "   0: 00000000:0016 00000000:0000 0A 00000000:00000000\n";
  EXPECT_EQ(procnet::parse_proc_net(many, 6, fw::Family::v4, "/p").listeners.size(), 20000u);
}

TEST(ProcNet, ReadListenersFailsClosedAndToleratesNoIpv6) {
  TempRoot r;
  std::string hdr = "  sl  local_address rem_address   st\n";
  r.write("/proc/net/tcp", hdr + "   0: 00000000:0016 00000000:0000 0A\n");
  r.write("/proc/net/udp", hdr);
  RootFs fs(r.path());
  auto ok = procnet::read_listeners(fs);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].port, 22u);
  r.write("/proc/net/udp6", hdr + "garbage\n");
  auto bad = procnet::read_listeners(fs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "/proc/net/udp6");
  EXPECT_EQ(bad.error().line, 2);
  ::unlink(r.host("/proc/net/udp6").c_str());
  ::unlink(r.host("/proc/net/tcp").c_str());
  auto none = procnet::read_listeners(fs);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().path, "/proc/net/tcp");
}

TEST(ProcNet, LiveHostShowsAListeningSocketOfOurs) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len), 0);
  RootFs host("/");
  auto ls = procnet::read_listeners(host);
  ::close(fd);
  ASSERT_TRUE(ls.ok()) << ls.error().to_string();
  bool seen = false;
  for (auto &l : *ls)
    seen = seen || (l.proto == 6 && l.port == ntohs(a.sin_port) && l.addr.str() == "127.0.0.1");
  EXPECT_TRUE(seen);
}
