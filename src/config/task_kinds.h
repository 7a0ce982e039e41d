/* task_kinds: the names of the tasks (train/task.h) and the question each
 * asks of the head, with no other dependency: the option table lists the
 * names and the settings' cross-checks ask the head about the question
 * without the trainer. */
#ifndef TASK_KINDS_H
#define TASK_KINDS_H

#include "../data/classes.h"
#include "../nn/head.h"
#include "../util/enum_names.h"

#define TASK_KINDS(X) X(TASK_CLASSIFY, "classify") X(TASK_BINARY, "binary") X(TASK_PAIRS, "pairs")
enum task_kind { TASK_KINDS(ENUM_ID) };
enum { N_TASK_KINDS = 0 TASK_KINDS(ENUM_COUNT) };

/* the question the head answers: over *n classes (binary: other, D) or labels */
static inline enum head_question task_question(enum task_kind kind, int *n)
{
    *n = kind == TASK_BINARY ? 2 : DATASET_CLASSES;
    return kind == TASK_PAIRS ? HEAD_ANY_OF : HEAD_ONE_OF;
}

#endif
