/* spawn_ceiling.c - how many times per second one core can start and reap a tiny program,
 * with posix_spawn, vfork+exec and fork+exec: the ceiling for CGI requests per second.
 *     spawn_ceiling PROGRAM SECONDS   prints "<method> <spawns per second>" lines
 * (run it with stdout on /dev/null or a file: the program's output goes there too) */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t start(int method, const char *program) {
    char *argv[] = {(char *)program, NULL};
    pid_t pid = -1;
    if (method == 0) {
        posix_spawn(&pid, program, NULL, NULL, argv, environ);
    } else {
        pid = method == 1 ? vfork() : fork();
        if (pid == 0) {
            execve(program, argv, environ);
            _exit(127);
        }
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PROGRAM SECONDS\n", argv[0]);
        return 2;
    }
    const char *names[] = {"posix_spawn", "vfork+exec", "fork+exec"};
    const double seconds = atof(argv[2]);
    for (int method = 0; method < 3; ++method) {
        long count = 0;
        const double begin = now();
        while (now() - begin < seconds) {
            const pid_t pid = start(method, argv[1]);
            if (pid < 0)
                return 1;
            waitpid(pid, NULL, 0);
            ++count;
        }
        printf("%s %.0f\n", names[method], count / (now() - begin));
    }
    return 0;
}
