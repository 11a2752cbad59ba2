/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_delete.c: the keys of a DeleteObjects body, parsed with libxml2.
 *
 *   <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
 *     <Quiet>true</Quiet>
 *     <Object><Key>a&amp;b</Key><VersionId>...</VersionId></Object> ...
 *   </Delete>
 *
 * The body is the client's, so hostile: libxml2 reads it without network
 * access, without substituting entities, and a document with a DOCTYPE is
 * refused outright (no entity expansion of any kind reaches a key). Keys
 * are the text of <Key> (CDATA and the predefined entities and character
 * references decoded): in a request body keys are literal, whatever
 * encoding-type says (that is for the answer).
 *
 * Any thread: libxml2 is initialised once (pthread_once), and a parse uses
 * only its own context.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "gateway/gw_delete.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
	xmlInitParser();
}

static int
named(const xmlNode *n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE && n->name != NULL &&
	    strcmp((const char *)n->name, name) == 0);
}

/* The key of one <Object>: cb's result, or -1 when it has none. */
static int
object_key(const xmlNode *obj, gw_delete_key_f *cb, void *arg)
{
	const xmlNode *k;
	xmlChar *text;
	size_t len;
	int rv = -1;

	for (k = obj->children; k != NULL && !named(k, "Key"); k = k->next)
		;
	if (k == NULL)
		return (-1);
	text = xmlNodeGetContent(k);
	if (text == NULL)
		return (-1);
	len = strlen((const char *)text);
	if (len > 0)
		rv = cb(arg, (const char *)text, len) == 0 ? 0 : -1;
	xmlFree(text);
	return (rv);
}

int
gw_delete_keys(const char *body, size_t len, size_t max, gw_delete_key_f *cb, void *arg)
{
	xmlDoc *doc = NULL;
	const xmlNode *root, *n;
	int count = 0, rv = -1;

	if (len == 0 || len > (size_t)INT32_MAX)
		return (-1);
	(void)pthread_once(&xml_once, xml_init);
	doc = xmlReadMemory(body, (int)len, "delete.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL || doc->intSubset != NULL || doc->extSubset != NULL)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !named(root, "Delete"))
		goto out;
	for (n = root->children; n != NULL; n = n->next) {
		if (!named(n, "Object"))
			continue;
		if ((size_t)count == max || object_key(n, cb, arg) != 0)
			goto out;
		count++;
	}
	rv = count;
out:
	if (doc != NULL)
		xmlFreeDoc(doc);
	return (rv);
}
