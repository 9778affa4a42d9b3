/*
 * splitbrain clock helper, compiled on a node with `cc -O2 -o clockhelper clockhelper.c`
 * and run as root, as Jepsen's bump-time and strobe-time are.
 *
 *   clockhelper now                      print CLOCK_REALTIME in nanoseconds
 *   clockhelper serve                    for every line read, print CLOCK_REALTIME in nanoseconds
 *                                        (one connection, many samples: offsets to the millisecond)
 *   clockhelper bump MS                  step CLOCK_REALTIME by MS milliseconds (may be negative);
 *                                        0 leaves the clock untouched; prints the new time
 *   clockhelper strobe DELTA_MS PERIOD_MS SECONDS
 *                                        every PERIOD_MS, flip the clock between its true time
 *                                        and true time + DELTA_MS, for SECONDS; ends on true
 *                                        time; DELTA_MS 0 never touches the clock; prints flips
 *
 * Exit status: 0 done, 1 a clock call failed, 2 bad arguments.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) {
        fprintf(stderr, "clock_gettime: %s\n", strerror(errno));
        exit(1);
    }
    return (long long)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void set_realtime(long long ns) {
    struct timespec ts;
    ts.tv_sec = ns / NS_PER_S;
    ts.tv_nsec = ns % NS_PER_S;
    if (ts.tv_nsec < 0) {
        ts.tv_sec -= 1;
        ts.tv_nsec += NS_PER_S;
    }
    if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
        fprintf(stderr, "clock_settime: %s\n", strerror(errno));
        exit(1);
    }
}

static long long parse(const char *text, const char *what) {
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0') {
        fprintf(stderr, "bad %s: %s\n", what, text);
        exit(2);
    }
    return value;
}

static void sleep_ns(long long ns) {
    struct timespec ts = {ns / NS_PER_S, ns % NS_PER_S};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int bump(long long delta_ms) {
    if (delta_ms != 0) {
        set_realtime(now_ns(CLOCK_REALTIME) + delta_ms * NS_PER_MS);
    }
    printf("%lld\n", now_ns(CLOCK_REALTIME));
    return 0;
}

static int strobe(long long delta_ms, long long period_ms, long long seconds) {
    if (period_ms <= 0 || seconds < 0) {
        fprintf(stderr, "period must be positive and seconds not negative\n");
        return 2;
    }
    long long real0 = now_ns(CLOCK_REALTIME);
    long long mono0 = now_ns(CLOCK_MONOTONIC);
    long long end = mono0 + seconds * NS_PER_S;
    long long flips = 0;
    int skewed = 0;
    while (now_ns(CLOCK_MONOTONIC) < end) {
        skewed = !skewed;
        if (delta_ms != 0) {
            set_realtime(real0 + (now_ns(CLOCK_MONOTONIC) - mono0) + (skewed ? delta_ms * NS_PER_MS : 0));
        }
        flips++;
        sleep_ns(period_ms * NS_PER_MS);
    }
    if (delta_ms != 0 && skewed) {
        set_realtime(real0 + (now_ns(CLOCK_MONOTONIC) - mono0));
    }
    printf("%lld\n", flips);
    return 0;
}

static int serve(void) {
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        printf("%lld\n", now_ns(CLOCK_REALTIME));
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "now") == 0) {
        printf("%lld\n", now_ns(CLOCK_REALTIME));
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "serve") == 0) {
        return serve();
    }
    if (argc == 3 && strcmp(argv[1], "bump") == 0) {
        return bump(parse(argv[2], "milliseconds"));
    }
    if (argc == 5 && strcmp(argv[1], "strobe") == 0) {
        return strobe(parse(argv[2], "delta"), parse(argv[3], "period"), parse(argv[4], "seconds"));
    }
    fprintf(stderr, "usage: %s now | serve | bump MS | strobe DELTA_MS PERIOD_MS SECONDS\n", argv[0]);
    return 2;
}
