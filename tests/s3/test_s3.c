// SPDX-License-Identifier: MIT
/*
 * test_s3.c - units of librawcap's S3 client that need no server: URL and
 * key building (SigV4 signs exactly what we build, so it must be canonical),
 * the shared credentials file parser, secret redaction, and the parsers of
 * S3's and STS's XML answers, fed what AWS documents and what it must refuse.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_int.h"

static char err[512];

static void should_parse_bucket_and_prefix(void **state)
{
	struct s3_target t;

	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	assert_int_equal(s3_target_parse(&t, "s3://bkt", NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(t.prefix, "");
	assert_string_equal(t.region, "us-east-1");
	assert_string_equal(t.sigv4, "aws:amz:us-east-1:s3");
	assert_string_equal(t.base, "https://bkt.s3.us-east-1.amazonaws.com");
	assert_int_equal(s3_target_parse(&t, "s3://bkt/a/b/", NULL, "eu-west-3", err, sizeof(err)),
			 0);
	assert_string_equal(t.prefix, "a/b");
	assert_string_equal(t.display, "s3://bkt/a/b");
	assert_string_equal(t.base, "https://bkt.s3.eu-west-3.amazonaws.com");
}

static void should_use_path_style_for_endpoints_and_dotted_buckets(void **state)
{
	struct s3_target t;

	(void)state;
	assert_int_equal(s3_target_parse(&t, "s3://my.bkt/p", NULL, "us-west-2", err, sizeof(err)),
			 0);
	assert_string_equal(t.base, "https://s3.us-west-2.amazonaws.com/my.bkt");
	assert_int_equal(
		s3_target_parse(&t, "s3://bkt", "http://127.0.0.1:9000/", NULL, err, sizeof(err)),
		0);
	assert_string_equal(t.base, "http://127.0.0.1:9000/bkt");
	setenv("AWS_ENDPOINT_URL_S3", "https://storage.googleapis.com", 1);
	setenv("AWS_REGION", "auto", 1);
	assert_int_equal(s3_target_parse(&t, "s3://bkt", NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(t.base, "https://storage.googleapis.com/bkt");
	assert_string_equal(t.sigv4, "aws:amz:auto:s3");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_REGION");
}

static void should_refuse_bad_urls(void **state)
{
	static const char *const bad[] = {
		"http://bkt", "s3://",	       "s3://ab",	"s3://Bkt",	"s3://-bkt",
		"s3://bkt-",  "s3://bkt/a//b", "s3://bkt/../x", "s3://bkt/./x", "s3://bkt/a\nb",
		NULL,
	};
	static const char *const bad_endpoints[] = {
		"ftp://h", "http://", "http://user:pw@h", "http://h/?q=1", "http://h/#f",
		"h:9000",  NULL,
	};
	struct s3_target t;

	(void)state;
	for (int i = 0; bad[i]; i++)
		assert_int_equal(s3_target_parse(&t, bad[i], NULL, NULL, err, sizeof(err)),
				 -EINVAL);
	for (int i = 0; bad_endpoints[i]; i++)
		assert_int_equal(
			s3_target_parse(&t, "s3://bkt", bad_endpoints[i], NULL, err, sizeof(err)),
			-EINVAL);
	assert_int_equal(s3_target_parse(&t, "s3://bkt", NULL, "us east", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bad region"));
}

static void should_encode_as_sigv4_canonical(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(s3_uri_encode("a b/c+d~e_f.g-h", true, out, sizeof(out)), 0);
	assert_string_equal(out, "a%20b/c%2Bd~e_f.g-h");
	assert_int_equal(s3_uri_encode("a b/c=", false, out, sizeof(out)), 0);
	assert_string_equal(out, "a%20b%2Fc%3D");
	assert_int_equal(s3_uri_encode("\xc3\xa9", false, out, sizeof(out)), 0);
	assert_string_equal(out, "%C3%A9");
	assert_int_equal(s3_uri_encode("abc", false, out, 3), -ENAMETOOLONG);
	assert_int_equal(s3_uri_encode(" ", false, out, 3), -ENAMETOOLONG);
}

static void should_build_keys_and_urls(void **state)
{
	struct s3_target t;
	char key[S3_KEY_MAX];
	char *url;

	(void)state;
	assert_int_equal(s3_target_parse(&t, "s3://bkt", "http://h:1", NULL, err, sizeof(err)), 0);
	assert_int_equal(s3_key(&t, "snap", "data/x", key, sizeof(key)), 0);
	assert_string_equal(key, "snap/data/x");
	assert_int_equal(s3_key(&t, "../etc", "x", key, sizeof(key)), -EINVAL);
	assert_int_equal(s3_target_parse(&t, "s3://bkt/p q", "http://h:1", NULL, err, sizeof(err)),
			 0);
	assert_int_equal(s3_key(&t, "snap", "", key, sizeof(key)), 0);
	assert_string_equal(key, "p q/snap/");
	url = s3_url(&t, key, "list-type=2");
	assert_string_equal(url, "http://h:1/bkt/p%20q/snap/?list-type=2");
	free(url);
	url = s3_url(&t, "", NULL);
	assert_string_equal(url, "http://h:1/bkt/");
	free(url);
	assert_true(s3_rel_path_ok("data/seg-1.rcs"));
	assert_false(s3_rel_path_ok("data/../x"));
	assert_false(s3_rel_path_ok("data/.x"));
	assert_false(s3_rel_path_ok("data/"));
	assert_false(s3_rel_path_ok("manifest.json"));
}

static void should_read_the_profile_asked_for(void **state)
{
	char token[2001];
	char *text;
	struct s3_creds c = {0};

	(void)state;
	memset(token, 'T', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	assert_true(
		asprintf(
			&text,
			"# comment\n[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n"
			"\n; other\n[profile ci]\r\n  aws_access_key_id =  AK2  \r\n"
			"aws_secret_access_key = S=K2\naws_session_token = %s\nregion = x\n",
			token) > 0);
	assert_int_equal(s3_creds_parse_file(text, strlen(text), "ci", &c), 0);
	assert_string_equal(c.access_key, "AK2");
	assert_string_equal(c.secret_key, "S=K2");
	assert_string_equal(c.session_token, token);
	s3_creds_free(&c);
	assert_int_equal(s3_creds_parse_file(text, strlen(text), "default", &c), 0);
	assert_string_equal(c.access_key, "AK1");
	assert_null(c.session_token);
	s3_creds_free(&c);
	assert_int_equal(s3_creds_parse_file(text, strlen(text), "nosuch", &c), -ENOENT);
	s3_creds_free(&c);
	free(text);
	assert_int_equal(s3_creds_parse_file("[a]\njunk\n", 9, "a", &c), -EBADMSG);
	assert_int_equal(s3_creds_parse_file("[a\nk=v\n", 7, "a", &c), -EBADMSG);
	assert_int_equal(s3_creds_parse_file("[a]\nk=v\0", 8, "a", &c), -EBADMSG);
	s3_creds_free(&c);
}

static void should_redact_every_secret(void **state)
{
	struct s3_creds c = {.secret_key = "s3cr3tKEY", .session_token = "tokTOKtok"};
	char msg[128] = "key s3cr3tKEY and s3cr3tKEY, token tokTOKtok; AK stays";

	(void)state;
	s3_creds_redact(&c, msg);
	assert_string_equal(msg, "key *** and ***, token ***; AK stays");
}

static void should_read_s3_errors(void **state)
{
	static const char s3[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
		"<Message>The specified key does not exist.</Message><Key>a</Key></Error>";
	static const char sts[] =
		"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
		"<Message>bad &amp; old</Message></Error></ErrorResponse>";
	struct s3_xml_error e;

	(void)state;
	assert_int_equal(s3_xml_error(s3, strlen(s3), &e), 0);
	assert_string_equal(e.code, "NoSuchKey");
	assert_string_equal(e.message, "The specified key does not exist.");
	assert_int_equal(s3_xml_error(sts, strlen(sts), &e), 0);
	assert_string_equal(e.code, "InvalidIdentityToken");
	assert_string_equal(e.message, "bad & old");
	assert_int_equal(s3_xml_error("<Other/>", 8, &e), -EPROTO);
	assert_int_equal(s3_xml_error("not xml", 7, &e), -EPROTO);
	assert_int_equal(s3_xml_error(NULL, 0, &e), -EPROTO);
}

struct seen {
	char keys[4][64];
	uint64_t sizes[4];
	int n;
};

static int on_key(void *arg, const char *key, uint64_t size)
{
	struct seen *s = arg;

	if (s->n == 4)
		return -E2BIG;
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->sizes[s->n++] = size;
	return 0;
}

static void should_list_objects_and_follow_tokens(void **state)
{
	static const char page[] =
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxL+t/z=</"
		"NextContinuationToken>"
		"<Contents><Key>p/a/manifest.json</Key><Size>776</Size><ETag>\"x\"</ETag></"
		"Contents>"
		"<Contents><Key>p/a/data/seg&lt;1&gt;</Key><Size>18446744073709551615</Size></"
		"Contents>"
		"</ListBucketResult>";
	static const char bad_size[] =
		"<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>";
	static const char no_token[] =
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	struct seen s = {0};
	char token[64];

	(void)state;
	assert_int_equal(s3_xml_list(page, strlen(page), on_key, &s, token, sizeof(token)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[1], "p/a/data/seg<1>");
	assert_true(s.sizes[1] == UINT64_MAX);
	assert_string_equal(token, "1ueGcxL+t/z=");
	assert_int_equal(s3_xml_list(bad_size, strlen(bad_size), on_key, &s, token, sizeof(token)),
			 -EPROTO);
	assert_int_equal(s3_xml_list(no_token, strlen(no_token), on_key, &s, token, sizeof(token)),
			 -EPROTO);
}

static void should_refuse_doctypes(void **state)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
		"\"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
		"<Error><Code>&c;</Code></Error>";
	static const char external[] = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM "
				       "\"file:///etc/passwd\">]><Error><Code>&x;</Code></Error>";
	struct s3_xml_error e;

	(void)state;
	assert_int_equal(s3_xml_error(laughs, strlen(laughs), &e), -EPROTO);
	assert_int_equal(s3_xml_error(external, strlen(external), &e), -EPROTO);
}

static int on_upload(void *arg, const char *key, const char *id)
{
	(void)key, (void)id;
	++*(int *)arg;
	return 0;
}

static void should_read_multipart_answers(void **state)
{
	static const char init[] =
		"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
		"<UploadId>VXBsb2FkIElE-abc</UploadId></InitiateMultipartUploadResult>";
	static const char init_bad[] = "<InitiateMultipartUploadResult><UploadId>a b</UploadId>"
				       "</InitiateMultipartUploadResult>";
	static const char done[] = "<CompleteMultipartUploadResult><ETag>\"e-3\"</ETag>"
				   "</CompleteMultipartUploadResult>";
	static const char done_err[] =
		"<Error><Code>InternalError</Code><Message>retry</Message></Error>";
	static const char uploads[] =
		"<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
		"<NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>i2</NextUploadIdMarker>"
		"<Upload><Key>k1</Key><UploadId>i1</UploadId></Upload>"
		"<Upload><Key>k2</Key><UploadId>i2</UploadId></Upload>"
		"</ListMultipartUploadsResult>";
	struct s3_xml_error e;
	char id[64], km[64], im[64];
	bool truncated;
	int n = 0;

	(void)state;
	assert_int_equal(s3_xml_upload_id(init, strlen(init), id, sizeof(id)), 0);
	assert_string_equal(id, "VXBsb2FkIElE-abc");
	assert_int_equal(s3_xml_upload_id(init_bad, strlen(init_bad), id, sizeof(id)), -EPROTO);
	assert_int_equal(s3_xml_complete(done, strlen(done), &e), 0);
	assert_int_equal(s3_xml_complete(done_err, strlen(done_err), &e), -EIO);
	assert_string_equal(e.code, "InternalError");
	assert_int_equal(s3_xml_uploads(uploads, strlen(uploads), on_upload, &n, &truncated, km, im,
					sizeof(km)),
			 0);
	assert_int_equal(n, 2);
	assert_true(truncated);
	assert_string_equal(km, "k2");
	assert_string_equal(im, "i2");
}

static void should_read_sts_credentials(void **state)
{
	static const char ok[] =
		"<AssumeRoleWithWebIdentityResponse "
		"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAX</AccessKeyId>"
		"<SecretAccessKey>sk</SecretAccessKey><SessionToken>tok</SessionToken>"
		"<Expiration>2026-11-30T10:00:00.123Z</Expiration></Credentials>"
		"</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
	static const char no_token[] =
		"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
		"<AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>sk</SecretAccessKey>"
		"<Expiration>2026-11-30T10:00:00Z</Expiration></Credentials>"
		"</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
	struct s3_creds c = {0};

	(void)state;
	assert_int_equal(s3_xml_sts(ok, strlen(ok), &c), 0);
	assert_string_equal(c.access_key, "ASIAX");
	assert_string_equal(c.secret_key, "sk");
	assert_string_equal(c.session_token, "tok");
	assert_true(c.expires == 1796032800);
	s3_creds_free(&c);
	assert_int_equal(s3_xml_sts(no_token, strlen(no_token), &c), -EPROTO);
	s3_creds_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(should_parse_bucket_and_prefix),
		cmocka_unit_test(should_use_path_style_for_endpoints_and_dotted_buckets),
		cmocka_unit_test(should_refuse_bad_urls),
		cmocka_unit_test(should_encode_as_sigv4_canonical),
		cmocka_unit_test(should_build_keys_and_urls),
		cmocka_unit_test(should_read_the_profile_asked_for),
		cmocka_unit_test(should_redact_every_secret),
		cmocka_unit_test(should_read_s3_errors),
		cmocka_unit_test(should_list_objects_and_follow_tokens),
		cmocka_unit_test(should_refuse_doctypes),
		cmocka_unit_test(should_read_multipart_answers),
		cmocka_unit_test(should_read_sts_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
