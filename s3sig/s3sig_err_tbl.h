/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_err_tbl.h: the one table of verification outcomes.
 * S3SIG_ERR(name, HTTP status, S3 <Code>, <Message>)
 * Included several times with different definitions of S3SIG_ERR, so that
 * the enum, the status, the S3 code and the message cannot drift apart.
 * Messages follow what AWS S3 itself answers where AWS documents it.
 */
S3SIG_ERR(OK, 200, "OK", "OK")
S3SIG_ERR(NOMEM, 500, "InternalError", "We encountered an internal error. Please try again.")
S3SIG_ERR(ANONYMOUS, 403, "AccessDenied", "Access Denied")
S3SIG_ERR(AUTH_MALFORMED, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
S3SIG_ERR(WRONG_REGION, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region is wrong.")
S3SIG_ERR(WRONG_SERVICE, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; incorrect service. This endpoint belongs to \"s3\".")
S3SIG_ERR(CRED_DATE, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
S3SIG_ERR(QUERY_MALFORMED, 400, "AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
S3SIG_ERR(EXPIRES_RANGE, 400, "AuthorizationQueryParametersError", "X-Amz-Expires must be a positive number of seconds, at most 604800 (one week).")
S3SIG_ERR(UNSUPPORTED_AUTH, 400, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
S3SIG_ERR(HOST_UNSIGNED, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; SignedHeaders must include host.")
S3SIG_ERR(UNKNOWN_KEY, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
S3SIG_ERR(SIG_MISMATCH, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
S3SIG_ERR(BAD_DATE, 403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
S3SIG_ERR(TIME_SKEWED, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
S3SIG_ERR(EXPIRED, 403, "AccessDenied", "Request has expired")
S3SIG_ERR(MISSING_CONTENT_SHA, 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
S3SIG_ERR(BAD_CONTENT_SHA, 400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value, or a hex SHA-256.")
S3SIG_ERR(CONTENT_SHA_MISMATCH, 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
S3SIG_ERR(CHUNK_SIG_MISMATCH, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided for a chunk of the aws-chunked body.")
S3SIG_ERR(BAD_CHUNK, 400, "InvalidRequest", "The aws-chunked body is malformed.")
S3SIG_ERR(INCOMPLETE_BODY, 400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
S3SIG_ERR(BAD_TRAILER, 400, "InvalidRequest", "The trailing headers are malformed or were not declared in x-amz-trailer.")
S3SIG_ERR(BAD_CHECKSUM_ALGO, 400, "InvalidRequest", "The algorithm type you specified in x-amz-trailer or x-amz-checksum-* is invalid.")
S3SIG_ERR(CHECKSUM_MISMATCH, 400, "BadDigest", "The checksum you specified did not match the calculated checksum.")
S3SIG_ERR(SINK_STOPPED, 500, "InternalError", "We encountered an internal error. Please try again.")
