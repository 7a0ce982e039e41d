/* classes: the digits 0-9, the one name for "10 classes" (labels, outputs,
 * per-label scores), in a header of its own so that the settings' checks can
 * ask it without the rest of data/. */
#ifndef DATASET_CLASSES_H
#define DATASET_CLASSES_H

#define DATASET_CLASSES 10

#endif
