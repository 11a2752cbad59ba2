/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the one writer of S3 error documents (gateway/gw_err.c).
 * The input, split at NUL bytes, gives what a request can put into an
 * error: the resource (path), a Range, a region, a request id, the code
 * and the message. Every document written must parse (libxml2), with
 * <Error> as its root; text of printable ASCII must come back as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "gateway/gw_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
printable(struct cm_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 || (unsigned char)s.p[i] > 0x7e)
			return (0);
	return (1);
}

/* The text of the first child element of root named name, or NULL. */
static xmlChar *
text_of(xmlNode *root, const char *name)
{
	xmlNode *n;

	for (n = root->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return (xmlNodeGetContent(n));
	return (NULL);
}

static void
same(xmlNode *root, const char *name, struct cm_slice want)
{
	xmlChar *t;

	if (!printable(want) || want.len == 0)
		return;
	t = text_of(root, name);
	if (t == NULL || strlen((const char *)t) != want.len || memcmp(t, want.p, want.len) != 0)
		__builtin_trap();
	xmlFree(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_slice in = cm_slice((const char *)data, size), f[6];
	struct gw_err_field fields[2];
	struct cm_buf b;
	xmlDoc *doc;
	xmlNode *root;
	int i;

	for (i = 0; i < 6; i++)
		in = cm_slice_cut(in, '\0', &f[i]);
	fields[0].name = "RangeRequested";
	fields[0].value = f[1];
	fields[1].name = "Region";
	fields[1].value = f[2];
	cm_buf_init(&b, 1 << 20);
	if (gw_err_xml(&b, f[4], f[5], fields, 2, f[0], f[3]) != 0)
		__builtin_trap();	/* 1 MiB holds 8 KiB of input, escaped */
	doc = xmlReadMemory(b.p, (int)b.len, "err.xml", NULL, XML_PARSE_NONET);
	if (doc == NULL)
		__builtin_trap();	/* not well-formed */
	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, "Error") != 0)
		__builtin_trap();
	same(root, "Code", f[4]);
	same(root, "Message", f[5]);
	same(root, "RangeRequested", f[1]);
	same(root, "Region", f[2]);
	same(root, "Resource", f[0]);
	same(root, "RequestId", f[3]);
	xmlFreeDoc(doc);
	cm_buf_free(&b);
	return (0);
}
