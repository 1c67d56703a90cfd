// cgihttp/detail/process.hpp - the system-call seam for child processes: spawning from a
// multi-threaded server, pipes, and an owner that kills and reaps.
#pragma once

#include "unique_fd.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstddef>
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

/// The uid and primary gid of a user name, or nullopt when there is no such user.
inline std::optional<run_as_user> lookup_user(const std::string& name) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::nullopt;
    return run_as_user{found->pw_uid, found->pw_gid, found->pw_name, found->pw_dir};
}

/// A pipe whose two ends are close-on-exec.
struct pipe_pair {
    unique_fd read;
    unique_fd write;
};

/// Creates a pipe; throws std::system_error (EMFILE, ENFILE) when descriptors run out.
inline pipe_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::system_category(), "pipe2");
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

[[noreturn]] inline void fail(volatile spawn_error* error, const char* step) noexcept {
    error->step = step;
    error->error = errno;
    ::_exit(127);
}

/// Moves fd above 2 so that dup2() onto 0, 1 and 2 cannot overwrite a source still needed.
inline int lift(int fd, volatile spawn_error* error) noexcept {
    if (fd > 2) return fd;
    const int lifted = ::fcntl(fd, F_DUPFD, 3);
    if (lifted < 0) fail(error, "fcntl");
    return lifted;
}

[[noreturn]] inline void run(const spawn_spec& spec, const sigset_t& parent_mask,
                             volatile spawn_error* error) noexcept {
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
        fail(error, "setpgid");
    const int in = lift(spec.stdin_fd, error);
    const int out = lift(spec.stdout_fd, error);
    const int err = lift(spec.stderr_fd, error);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(error, "dup2");
    // No descriptor of the server reaches the script (Asio's sockets are not close-on-exec).
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        rlimit limit{};
        const rlim_t max = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536
                               ? limit.rlim_cur
                               : 65536;
        for (rlim_t fd = 3; fd < max; ++fd)
            ::close(static_cast<int>(fd));
    }
    if (spec.working_directory && ::chdir(spec.working_directory) != 0) fail(error, "chdir");
    if (spec.run_as) {
        if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
            ::syscall(SYS_setresgid, spec.run_as->gid, spec.run_as->gid, spec.run_as->gid) != 0 ||
            ::syscall(SYS_setresuid, spec.run_as->uid, spec.run_as->uid, spec.run_as->uid) != 0)
            fail(error, "setuid");
    }
    (void)parent_mask;
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(spec.program, spec.argv, spec.envp);
    fail(error, "execve");
}
} // namespace spawn_child

/// Starts a child with vfork() + execve(): fast whatever the server's size (fork() copies page
/// tables: 34 spawns/s from a 1 GiB parent), and safe in a multi-threaded process since the
/// child runs only async-signal-safe calls (see spawn_child). All signals are blocked in the
/// calling thread meanwhile, so no handler of the server can run in the child. Returns the
/// pid, or -1 with `error` telling which step failed (vfork, or a step in the child).
inline pid_t spawn(const spawn_spec& spec, spawn_error& error) {
    sigset_t all;
    sigset_t saved;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved);
    volatile spawn_error child_error;
    const pid_t pid = ::vfork();
    if (pid == 0) spawn_child::run(spec, saved, &child_error);
    const int vfork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) {
        error = {"vfork", vfork_errno};
        return -1;
    }
    if (child_error.step) { // the child failed before or at execve() and has exited
        error = {child_error.step, child_error.error};
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return -1;
    }
    return pid;
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
