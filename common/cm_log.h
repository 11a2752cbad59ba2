/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_log.h: log lines on stderr, one write(2) each so that lines from
 * several threads never interleave. The level is set once at start-up.
 */
#ifndef CACHALOT_CM_LOG_H
#define CACHALOT_CM_LOG_H

#include "common/cm_config.h"

void cm_log_set_level(int level);	/* enum cm_log_level */
int cm_log_enabled(int level);
void cm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CM_LOGE(...) cm_log(CM_LOG_ERROR, __VA_ARGS__)
#define CM_LOGW(...) cm_log(CM_LOG_WARN, __VA_ARGS__)
#define CM_LOGI(...) cm_log(CM_LOG_INFO, __VA_ARGS__)
#define CM_LOGD(...) do { if (cm_log_enabled(CM_LOG_DEBUG)) cm_log(CM_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
