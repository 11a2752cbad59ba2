/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the config file parser (repeated keys included), every
 * option's value parser and the defaults derived from them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cm_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_config c;

	if (cm_config_init(&c) != 0)
		return (0);
	/* Then the derived defaults, from whatever listen the text set. */
	if (cm_config_load_text(&c, (const char *)data, size, "fuzz", NULL) == 0)
		(void)cm_config_resolve(&c);
	cm_config_free(&c);
	return (0);
}
