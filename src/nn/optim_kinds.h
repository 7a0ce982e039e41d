/* optim_kinds: the names of the update rules and of the learning-rate
 * schedules (optim.c), apart from optim.h so the option table can list them
 * without the optimizer. */
#ifndef OPTIM_KINDS_H
#define OPTIM_KINDS_H

#include "../util/enum_names.h"

#define OPTIM_KINDS(X) X(OPT_SGD, "sgd") X(OPT_MOMENTUM, "momentum") X(OPT_ADAM, "adam")
enum optim_kind { OPTIM_KINDS(ENUM_ID) };
enum { N_OPTIM_KINDS = 0 OPTIM_KINDS(ENUM_COUNT) };
#define LR_SCHEDULES(X)                                                                  \
    X(LR_CONSTANT, "constant") X(LR_STEP, "step") X(LR_COSINE, "cosine") X(LR_EXP, "exp")
enum lr_schedule { LR_SCHEDULES(ENUM_ID) };
enum { N_LR_SCHEDULES = 0 LR_SCHEDULES(ENUM_COUNT) };

#endif
