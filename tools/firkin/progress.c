/* progress.c — the progress line of long commands (dump, load, verify,
 * compact, backup, restore): on a terminal, a bar with percent, count, rate
 * and ETA redrawn at most ten times a second on stderr; nothing when stderr
 * is not a terminal (unless --progress) or with --no-progress. A struct
 * progress belongs to the thread that started it (library callbacks run on
 * the calling thread). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct progress {
  const char *what, *unit;
  uint64_t total; /* 0 = unknown */
  double start, last;
  bool drawn;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool wanted(const struct cli *c) {
  if (c->progress >= 0) return c->progress == 1;
  return isatty(STDERR_FILENO) == 1;
}

static void human(double v, char *out, size_t n) {
  const char *suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1000 && i < 4) {
    v /= 1000;
    i++;
  }
  snprintf(out, n, i ? "%.1f%s" : "%.0f%s", v, suffix[i]);
}

static void hms(double s, char *out, size_t n) {
  unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);
  snprintf(out, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

struct progress *progress_start(const struct cli *c, const char *what, const char *unit,
                                uint64_t total) {
  if (!wanted(c)) return NULL;
  struct progress *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->what = what;
  p->unit = unit;
  p->total = total;
  p->start = p->last = now();
  return p;
}

static void draw(struct progress *p, uint64_t done, uint64_t bytes, bool final) {
  double t = now(), el = t - p->start;
  char line[256], rate[32], cnt[32], mb[32], eta[32];
  double r = el > 0 ? done / el : 0;
  human(r, rate, sizeof rate);
  human((double)done, cnt, sizeof cnt);
  human((double)bytes, mb, sizeof mb);
  if (p->total) {
    double frac = done >= p->total ? 1.0 : (double)done / (double)p->total;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    hms(final ? el : (r > 0 ? (double)(p->total - (done < p->total ? done : p->total)) / r : 0),
        eta, sizeof eta);
    snprintf(line, sizeof line, "%s [%s] %3.0f%%  %s %s  %s %s/s  %sB  %s %s", p->what, bar,
             frac * 100, cnt, p->unit, rate, p->unit, mb, final ? "took" : "ETA", eta);
  } else {
    hms(el, eta, sizeof eta);
    snprintf(line, sizeof line, "%s  %s %s  %s %s/s  %sB  %s", p->what, cnt, p->unit, rate, p->unit,
             mb, eta);
  }
  fprintf(stderr, "\r%-100s%s", line, final ? "\n" : "");
  fflush(stderr);
  p->drawn = true;
}

void progress_update(struct progress *p, uint64_t done, uint64_t bytes) {
  if (p == NULL) return;
  double t = now();
  if (t - p->last < 0.1) return;
  p->last = t;
  draw(p, done, bytes, false);
}

void progress_done(struct progress *p, uint64_t done, uint64_t bytes) {
  if (p == NULL) return;
  draw(p, done, bytes, true);
  free(p);
}

void lib_progress_cb(void *ctx, uint64_t done, uint64_t total) {
  struct lib_progress *lp = ctx;
  if (lp->p == NULL && lp->done == 0) {
    lp->p = progress_start(lp->c, lp->what, "B", total);
    if (lp->p == NULL) lp->done = 1; /* not shown: do not try again */
  }
  if (lp->p != NULL) {
    lp->done = done;
    progress_update(lp->p, done, done);
  }
}

void lib_progress_end(struct lib_progress *lp) {
  if (lp->p != NULL) progress_done(lp->p, lp->done, lp->done);
  lp->p = NULL;
}
