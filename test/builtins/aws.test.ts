/** providers.aws.sign_req: SigV4 as OPA computes it (signatures from OPA's own test cases). */
import { hostBuiltins, newEvalContext } from '../../src/builtins/registry';

const fns = hostBuiltins(newEvalContext({ strict: true }));
const config = { aws_access_key: 'MYAWSACCESSKEYGOESHERE', aws_secret_access_key: 'MYAWSSECRETACCESSKEYGOESHERE', aws_service: 's3', aws_region: 'us-east-1' };
const T = 1451311705000000000;

test('signs the request headers, the aws headers and the payload hash', () => {
  const out = fns['providers.aws.sign_req']({ method: 'get', url: 'http://example.com', headers: { foo: 'bar' } }, config, T);
  expect(out).toEqual({
    method: 'get', url: 'http://example.com',
    headers: {
      foo: 'bar', host: 'example.com', 'x-amz-date': '20151228T140825Z',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      Authorization: 'AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=foo;host;x-amz-content-sha256;x-amz-date,Signature=8f1dc7c9b9978356a0d0989fd26a95307f4f8a4aa264d8220647b7097d839952',
    },
  });
});

test('disable_payload_signing signs UNSIGNED-PAYLOAD', () => {
  const out = fns['providers.aws.sign_req']({ method: 'get', url: 'https://example.com', headers: { foo: 'bar' } }, { ...config, disable_payload_signing: true }, T);
  expect(out.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  expect(out.headers.Authorization).toMatch(/Signature=c6e6db654e92172f71e18c714c123711de069ac6fd7df1348e5b28fd05532028$/);
});

test('missing or non-string config parameters are errors', () => {
  expect(() => fns['providers.aws.sign_req']({ method: 'get', url: 'http://x' }, { aws_service: 's3' }, T)).toThrow(/missing required AWS config/);
  expect(() => fns['providers.aws.sign_req']({ method: 'get', url: 'http://x' }, { ...config, aws_region: 1 }, T)).toThrow(/invalid values/);
});
