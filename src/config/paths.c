/* paths: where an installed train finds what it was not given by path: a
 * config named by --config NAME, and the MNIST folder when neither --data-dir
 * nor $MNIST_DIR names one (docs/install.md). Nothing here depends on the
 * working directory except the two places meant to: ./NAME for a config and
 * ./data/mnist for the data, both the source tree's layout.
 *
 * The shared folder is found from the program's own location,
 * <dir of the binary>/../share/mnist-train, so a tree installed with
 * DESTDIR, or moved as a whole, finds its configs; the build tree mirrors it
 * (build/share/mnist-train/configs links to configs/). */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* $VAR/SUB when VAR holds an absolute path, else $HOME/HOME_SUB/SUB when HOME
 * does; 0 when there is neither. The XDG base-directory spec: a relative
 * value is invalid and is ignored. */
static int xdg_dir(char *out, size_t n, const char *var, const char *home_sub, const char *sub)
{
    const char *v = getenv(var), *home = getenv("HOME");
    int len;
    if (v && v[0] == '/')
        len = snprintf(out, n, "%s/%s", v, sub);
    else if (home && home[0] == '/')
        len = snprintf(out, n, "%s/%s/%s", home, home_sub, sub);
    else
        return 0;
    return len > 0 && (size_t)len < n;
}

/* <dir of this binary>/../share/mnist-train/SUB, or 0 */
static int share_dir(char *out, size_t n, const char *sub)
{
    char exe[CONFIG_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return 0;
    exe[len] = 0;
    /* /usr/local/bin/mnist-train -> /usr/local */
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return 0;
        *slash = 0;
    }
    int k = snprintf(out, n, "%s/share/" CONFIG_PRODUCT "/%s", exe, sub);
    return k > 0 && (size_t)k < n;
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_searchable(const char *name)
{
    if (name[0] == '/' || !strncmp(name, "./", 2))
        return false;
    for (const char *p = name; *p; p += strcspn(p, "/"), p += *p == '/') {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
    }
    return true;
}

int config_find(const char *name, char *out, struct err *e)
{
    /* an absolute path, one that starts with ./ or holds a .. component is a
     * path as typed: nothing is searched, so no name reaches out of the
     * folders below ("nielsen/ch3-30-ce" is searched, "../x" is not) */
    if (!is_searchable(name)) {
        snprintf(out, CONFIG_PATH_MAX, "%s", name);
        return 0;
    }
    char dirs[3][CONFIG_PATH_MAX];
    int nd = 0;
    snprintf(dirs[nd++], CONFIG_PATH_MAX, ".");
    nd += xdg_dir(dirs[nd], CONFIG_PATH_MAX, "XDG_CONFIG_HOME", ".config",
                  CONFIG_PRODUCT "/configs");
    nd += share_dir(dirs[nd], CONFIG_PATH_MAX, "configs");
    size_t len = strlen(name);
    bool has_json = len > 5 && !strcmp(name + len - 5, ".json");
    /* "." and ".." are folders, never configs: only regular files count, so a
     * folder that happens to share a config's name is passed over too */
    for (int d = 0; d < nd; d++)
        for (int j = 0; j < 2 - has_json; j++) {
            int k = snprintf(out, CONFIG_PATH_MAX, "%s/%s%s", dirs[d], name, j ? ".json" : "");
            if (k > 0 && k < CONFIG_PATH_MAX && is_regular(out)) {
                if (d == 0)   /* as typed: messages name "softmax.json", not "./softmax.json" */
                    memmove(out, out + 2, strlen(out + 2) + 1);
                return 0;
            }
        }
    char looked[800] = "";
    for (int d = 0; d < nd; d++) {
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s/", d ? ", " : "", dirs[d]);
    }
    /* a name cut to fit: the message must still say what is wrong */
    return err_set(e, ERR_NOINPUT, "%.64s: no such config (looked in %s for %.64s%s%.64s%s)", name,
                   looked, name, has_json ? "" : " and ", has_json ? "" : name,
                   has_json ? "" : ".json");
}

/* ---- the MNIST folder ---- */

void config_default_data_dir(struct config *c)
{
    const char *env = getenv("MNIST_DIR");
    if (env && *env) {
        snprintf(c->data_dir, CONFIG_PATH_MAX, "%s", env);
        c->data_dir_from = DATA_DIR_ENV;
    } else if (is_dir("data/mnist") ||
               !xdg_dir(c->data_dir, CONFIG_PATH_MAX, "XDG_DATA_HOME", ".local/share",
                        CONFIG_PRODUCT "/mnist")) {
        snprintf(c->data_dir, CONFIG_PATH_MAX, "data/mnist");
        c->data_dir_from = DATA_DIR_CHECKOUT;
    } else {
        c->data_dir_from = DATA_DIR_USER;
    }
}

int config_check_data(const struct config *c, struct err *e)
{
    if (!c->data_files_derived)
        return 0;
    const char *how = "fetch it with '" CONFIG_PRODUCT "-fetch' (in the source tree: make data), "
                      "or point --data-dir or MNIST_DIR at it";
    /* what chose the folder, as the message names it */
    const char *from = c->data_dir_from == DATA_DIR_ENV ? "MNIST_DIR"
                       : c->data_dir_from == DATA_DIR_GIVEN ? "data_dir" : NULL;
    struct stat st;
    if (stat(c->data_dir, &st) != 0 && !from)
        return err_set(e, ERR_NOINPUT, "no MNIST data: not in ./data/mnist%s%s%s; %s",
                       c->data_dir_from == DATA_DIR_USER ? ", nor in " : " (and neither "
                       "XDG_DATA_HOME nor HOME names a folder of yours)",
                       c->data_dir_from == DATA_DIR_USER ? c->data_dir : "", "", how);
    if (stat(c->data_dir, &st) != 0)
        return err_set(e, ERR_NOINPUT, "%s: %s: %s; %s", from, c->data_dir, strerror(errno), how);
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_NOINPUT, "%s%s%s: not a directory; %s", from ? from : "",
                       from ? ": " : "", c->data_dir, how);
    const char *const files[] = {c->train_images, c->train_labels, c->test_images,
                                 c->test_labels};
    for (int i = 0; i < 4; i++)
        if ((c->data_files_derived >> i & 1) && stat(files[i], &st) != 0)
            return err_set(e, ERR_NOINPUT, "%s: %s (in the MNIST folder %s%s%s); %s", files[i],
                           strerror(errno), c->data_dir, from ? ", from " : "",
                           from ? from : "", how);
    return 0;
}
