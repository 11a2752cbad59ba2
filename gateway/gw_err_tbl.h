/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_err_tbl.h: the one table of the S3 errors the gateway answers itself
 * (the origin's own errors are relayed as they are, and the signature
 * checker's come from s3sig_err_tbl.h).
 * GW_ERR(name, HTTP status, S3 <Code>, default <Message>)
 * Included with different definitions of GW_ERR, so that the enum, the
 * status, the code and the message cannot drift apart. Messages are AWS's
 * where AWS documents them.
 */
GW_ERR(INTERNAL, 500, "InternalError", "We encountered an internal error. Please try again.")
GW_ERR(ORIGIN_DOWN, 503, "ServiceUnavailable", "The origin could not be reached; please retry.")
GW_ERR(ORIGIN_ODD, 502, "InternalError", "The origin answered unexpectedly.")
GW_ERR(NO_RING, 503, "ServiceUnavailable", "This gateway has not reached the cluster's master yet, so it cannot make sure that no cache keeps serving what a write changes; the write was not made. Please retry.")
GW_ERR(UNCONFIRMED, 503, "ServiceUnavailable", "The write reached the origin, but this gateway could not make sure that no cache keeps serving the previous version (the cluster's ring has moved on and its master is out of reach). Please retry.")
GW_ERR(SLOW_DOWN, 503, "SlowDown", "Please reduce your request rate.")
GW_ERR(BAD_REQUEST, 400, "BadRequest", "The request could not be parsed.")
GW_ERR(INVALID_REQUEST, 400, "InvalidRequest", "The request is not valid.")
GW_ERR(BAD_BUCKET_NAME, 400, "InvalidBucketName", "The specified bucket is not valid.")
GW_ERR(NO_LENGTH, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
GW_ERR(TOO_LARGE, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
GW_ERR(MALFORMED_XML, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
GW_ERR(PRECONDITION, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
GW_ERR(BAD_RANGE, 416, "InvalidRange", "The requested range is not satisfiable")
GW_ERR(URI_TOO_LONG, 414, "RequestURITooLong", "The request URI is too long.")
GW_ERR(HEADERS_TOO_LARGE, 431, "RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.")
GW_ERR(WORKER_ONLY, 405, "MethodNotAllowed", "This is a Cachalot worker: it serves block reads and invalidations to gateways only. Send S3 requests to a gateway.")
GW_ERR(CLUSTER_AUTH, 403, "AccessDenied", "This is a Cachalot worker: it answers only requests that carry a valid cluster signature (x-cachalot-auth, made with the cluster secret), that is gateways' requests.")
GW_ERR(TIMEOUT, 408, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.")
