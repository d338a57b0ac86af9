/*
 * executor.h - a small run-to-completion executor for task-ffi tasks, in C99.
 *
 * The executor never sees a Rust type. A task is an opaque `void *` (a task-ffi runnable
 * turned into a raw pointer by `Runnable::into_raw`); everything the executor needs is given
 * to it once, at `exec_init`, in a `struct exec_config`:
 *
 *   - `data_offset`: where the task's user data starts, counted in bytes from the task pointer
 *     (`TaskHead::<M, D>::DATA_OFFSET` on the Rust side). The user data must begin with a
 *     `struct exec_link`; the executor reads and writes that prefix and nothing else.
 *   - `run` and `drop`: the type-erased entry points (`task_ffi::ffi::task_ffi_run` and
 *     `task_ffi_drop`), passed as function pointers, so this file links against no Rust symbol.
 *   - `lock` and `unlock`: enter and leave the critical section that guards the queue (disable
 *     interrupts, an RTOS critical section, a mutex). Both NULL when every push and pop happens
 *     in one context.
 *
 * Ownership: `exec_push` takes ownership of the task pointer. The executor then hands every
 * pointer it owns to exactly one of `run` (`exec_run_all`) or `drop` (`exec_drop_all`), exactly
 * once, and never touches it afterwards: both calls consume it. `run` may push the same task
 * again (a task woken while running comes back through the schedule function, which calls
 * `exec_push`), which is a new, separate ownership.
 *
 * The queue is intrusive: it is threaded through the `next` field of each queued task's
 * `struct exec_link`, so pushing never allocates and never fails. Tasks run highest `priority`
 * first, first in first out among equal priorities. Before each run the executor adds one to the
 * task's `runs` counter, which the Rust side can read back from its data.
 *
 * The functions are not reentrant with respect to one another on the same executor, except
 * `exec_push`, which may be called from a `run` call, from another thread or from an interrupt
 * whenever `lock`/`unlock` make that safe.
 */
#ifndef FRUGAL_EXECUTOR_H
#define FRUGAL_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Polls the task once and consumes the pointer; returns whether it was woken while running. */
typedef bool (*exec_run_fn)(void *task);
/* Cancels the task (drops its future) and consumes the pointer. */
typedef void (*exec_drop_fn)(void *task);
/* Enters or leaves the critical section that guards the queue. */
typedef void (*exec_lock_fn)(void);

/* The first member of every task's user data; owned by the executor while the task is queued. */
struct exec_link {
    void *next;        /* the next queued task (private to the executor) */
    uint32_t priority; /* set by the spawner; higher runs first */
    uint32_t runs;     /* incremented by the executor before each run */
};

struct exec_config {
    size_t data_offset; /* bytes from the task pointer to its `struct exec_link` */
    exec_run_fn run;
    exec_drop_fn drop;
    exec_lock_fn lock;   /* may be NULL, together with `unlock` */
    exec_lock_fn unlock;
};

/* The executor's state; place it anywhere (static storage is fine). Fields are private. */
struct exec {
    struct exec_config config;
    void *head;    /* the highest-priority queued task, or NULL */
    size_t queued; /* number of queued tasks */
};

/* Sets up an empty executor. */
void exec_init(struct exec *e, const struct exec_config *config);

/* Queues `task` by priority and takes ownership of it. Never fails, never allocates. */
void exec_push(struct exec *e, void *task);

/* Runs queued tasks until the queue is empty, including those queued meanwhile; returns the
 * number of runs. */
size_t exec_run_all(struct exec *e);

/* Hands every queued task to `drop` (cancellation, e.g. at shutdown); returns how many. */
size_t exec_drop_all(struct exec *e);

/* The number of queued tasks (a snapshot when other contexts push). */
size_t exec_len(struct exec *e);

/* sizeof(struct exec), so a foreign-language mirror of the struct can be checked. */
size_t exec_size(void);

#ifdef __cplusplus
}
#endif

#endif /* FRUGAL_EXECUTOR_H */
