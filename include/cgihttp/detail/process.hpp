// cgihttp/detail/process.hpp - the system-call seam for child processes: spawning from a
// multi-threaded server, pipes, and an owner that kills and reaps.
#pragma once

#include "resource_shortage.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cgihttp::detail {

/// A user to run children as: from getpwnam(), looked up before spawning.
struct run_as_user {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
    std::string home;
};

/// The uid and primary gid of a user name, or nullopt when there is no such user. A lookup
/// that fails (out of descriptors to read /etc/passwd...) throws as throw_local_failure().
inline std::optional<run_as_user> lookup_user(const std::string& name) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    const int error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    // POSIX lets these mean "no such user" too.
    if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
        if (!found) return std::nullopt;
        return run_as_user{found->pw_uid, found->pw_gid, found->pw_name, found->pw_dir};
    }
    throw_local_failure(error, "looking up user " + name);
}

/// A pipe whose two ends are close-on-exec.
struct pipe_pair {
    unique_fd read;
    unique_fd write;
};

/// Creates a pipe; throws as throw_local_failure() does (EMFILE, ENFILE: a 503).
inline pipe_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_local_failure(errno, "pipe2");
    return {unique_fd(fds[0]), unique_fd(fds[1])};
}

/// What a child is started with. All pointers must stay valid during spawn().
struct spawn_spec {
    const char* program = nullptr; ///< absolute or relative path to execute
    char* const* argv = nullptr;   ///< null-terminated
    char* const* envp = nullptr;   ///< null-terminated
    const char* working_directory = nullptr;
    int stdin_fd = -1;                 ///< becomes the child's 0
    int stdout_fd = -1;                ///< becomes the child's 1
    int stderr_fd = -1;                ///< becomes the child's 2
    std::optional<run_as_user> run_as; ///< drop to this user (needs root)
};

/// Why a spawn failed: the step in the child, and its errno.
struct spawn_error {
    const char* step = nullptr;
    int error = 0;
};

namespace spawn_child {
// Everything here runs in the vfork()ed child, which shares the parent's memory until it
// calls execve() or _exit(): only async-signal-safe system calls, no allocation, no locks,
// and raw syscalls for the ids (glibc's setuid() would try to signal the parent's threads).

/// The steps that can fail, by number: what the child reports through its pipe.
inline constexpr const char* steps[] = {"setpgid", "fcntl", "dup2", "chdir", "setuid", "execve"};
enum step : int { setpgid_step, fcntl_step, dup2_step, chdir_step, setuid_step, execve_step };

/// Writes the failed step and errno to the report pipe, then exits.
[[noreturn]] inline void fail(int report, step failed) noexcept {
    const int message[2] = {failed, errno};
    (void)!::write(report, message, sizeof message);
    ::_exit(127);
}

/// Moves fd above 2 so that dup2() onto 0, 1 and 2 cannot overwrite a source still needed.
inline int lift(int fd, int report) noexcept {
    if (fd > 2) return fd;
    const int lifted = ::fcntl(fd, F_DUPFD_CLOEXEC, 3); // dup2() onto 0-2 clears it
    if (lifted < 0) fail(report, fcntl_step);
    return lifted;
}

[[noreturn]] inline void run(const spawn_spec& spec, int report) noexcept {
    // Handlers installed by the server must not run here; SIGPIPE and SIGXFSZ behave as
    // scripts expect even if the server ignores them. Other ignored signals stay ignored.
    for (int sig = 1; sig < NSIG; ++sig) {
        struct sigaction action {};
        if (sig == SIGKILL || sig == SIGSTOP || ::sigaction(sig, nullptr, &action) != 0) continue;
        if (action.sa_handler != SIG_DFL &&
            (action.sa_handler != SIG_IGN || sig == SIGPIPE || sig == SIGXFSZ)) {
            action.sa_handler = SIG_DFL;
            action.sa_flags = 0;
            sigemptyset(&action.sa_mask);
            ::sigaction(sig, &action, nullptr);
        }
    }
    if (::setpgid(0, 0) != 0) // its own group, so a timeout can kill its children too
        fail(report, setpgid_step);
    report = lift(report, report);
    const int in = lift(spec.stdin_fd, report);
    const int out = lift(spec.stdout_fd, report);
    const int err = lift(spec.stderr_fd, report);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(report, dup2_step);
    // No descriptor of the server reaches the script (Asio's sockets are not close-on-exec);
    // the report pipe stays open until execve() closes it (it is close-on-exec).
    const auto close_from_to = [](unsigned first, unsigned last) {
        if (first > last) return;
        if (::syscall(SYS_close_range, first, last, 0U) == 0) return;
        rlimit limit{};
        const rlim_t max = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536
                               ? limit.rlim_cur
                               : 65536;
        for (rlim_t fd = first; fd < max && fd <= last; ++fd)
            ::close(static_cast<int>(fd));
    };
    close_from_to(3, static_cast<unsigned>(report) - 1);
    close_from_to(static_cast<unsigned>(report) + 1, ~0U);
    if (spec.working_directory && ::chdir(spec.working_directory) != 0) fail(report, chdir_step);
    if (spec.run_as) {
        if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
            ::syscall(SYS_setresgid, spec.run_as->gid, spec.run_as->gid, spec.run_as->gid) != 0 ||
            ::syscall(SYS_setresuid, spec.run_as->uid, spec.run_as->uid, spec.run_as->uid) != 0)
            fail(report, setuid_step);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(spec.program, spec.argv, spec.envp);
    fail(report, execve_step);
}
} // namespace spawn_child

/// Starts a child with vfork() + execve(): fast whatever the server's size (fork() copies page
/// tables: 34 spawns/s from a 1 GiB parent), and safe in a multi-threaded process since the
/// child runs only async-signal-safe calls (see spawn_child). All signals are blocked in the
/// calling thread meanwhile, so no handler of the server can run in the child. A failure in
/// the child comes back through a close-on-exec pipe (an empty read means execve()
/// succeeded), which also works where vfork() is a fork() (ThreadSanitizer). Returns the
/// pid, or -1 with `error` telling which step failed.
inline pid_t spawn(const spawn_spec& spec, spawn_error& error) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        error = {"pipe2", errno};
        return -1;
    }
    const unique_fd report_read(report[0]);
    unique_fd report_write(report[1]);
    sigset_t all;
    sigset_t saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved);
    const pid_t pid = ::vfork();
    if (pid == 0) spawn_child::run(spec, report[1]);
    const int vfork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) {
        error = {"vfork", vfork_errno};
        return -1;
    }
    report_write.reset();
    int message[2] = {};
    ssize_t got;
    while ((got = ::read(report_read.get(), message, sizeof message)) < 0 && errno == EINTR) {
    }
    if (got == 0) // closed by execve(): the program runs
        return pid;
    const bool known =
        got == sizeof message && message[0] >= 0 && message[0] < int(std::size(spawn_child::steps));
    error = {known ? spawn_child::steps[message[0]] : "spawn", known ? message[1] : EIO};
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

/// Owns a running child and its process group: kill() ends them all, and the destructor
/// kills and reaps, so no path leaves a zombie or a stray process behind.
class child_process {
public:
    child_process() = default;
    explicit child_process(pid_t pid) noexcept : pid_(pid) {
        // A pidfd turns "the child exited" into a readable descriptor for poll().
        const long fd = ::syscall(SYS_pidfd_open, pid, 0);
        pidfd_.reset(fd >= 0 ? static_cast<int>(fd) : -1);
    }
    child_process(child_process&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)),
          reaped_(other.reaped_), status_(other.status_) {}
    child_process& operator=(child_process&&) = delete;
    child_process(const child_process&) = delete;
    ~child_process() {
        if (pid_ > 0 && !reaped_) {
            kill();
            wait();
        }
        if (pid_ > 0) ::kill(-pid_, SIGKILL); // grandchildren left in the group
    }

    pid_t pid() const noexcept { return pid_; }
    /// Readable once the child has exited; -1 where pidfds are unsupported.
    int pidfd() const noexcept { return pidfd_.get(); }
    bool reaped() const noexcept { return reaped_; }
    /// The wait status (see WIFEXITED), valid once reaped.
    int status() const noexcept { return status_; }

    /// Kills the child's whole process group.
    void kill() noexcept {
        if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGKILL);
    }

    /// Reaps the child if it has exited; true once reaped.
    bool try_wait() noexcept { return wait_for(WNOHANG); }

    /// Waits for the child to exit and reaps it.
    void wait() noexcept { wait_for(0); }

private:
    bool wait_for(int options) noexcept {
        if (reaped_ || pid_ <= 0) return true;
        while (true) {
            const pid_t r = ::waitpid(pid_, &status_, options);
            if (r == pid_) return reaped_ = true;
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) // already reaped elsewhere (SIGCHLD ignored): nothing left to wait for
                return reaped_ = true;
            return false;
        }
    }

    pid_t pid_ = -1;
    unique_fd pidfd_;
    bool reaped_ = false;
    int status_ = 0;
};

} // namespace cgihttp::detail
