import { CloudApiError, createCloudApi } from '../../scripts/deploy/cloud-api';
import { fieldProblems, MODELS, modelProblems, startFakeCloud, type FakeCloud } from './fake-cloud-api';
import { KEYS } from './harness';

/** The fake holds requests to the SDK's models as the real API does: a deploy that passes it sends real fields. */

describe('the fake Cloud API', () => {
  let cloud: FakeCloud;

  beforeAll(async () => {
    cloud = await startFakeCloud(KEYS);
  });

  afterAll(async () => {
    await cloud.close();
  });

  const api = () =>
    createCloudApi({ credentials: { ...KEYS, source: 'test' }, region: 'ap-guangzhou', endpoint: cloud.url });

  it('checks nested structures against the models', () => {
    expect(MODELS._source).toContain('TencentCloud/tencentcloud-sdk-nodejs@');
    expect(modelProblems('scf', 'Code', { ZipFile: 'x', Bogus: 1 }, 'Code')).toEqual([
      'Code.Bogus is not a field of the model',
    ]);
    expect(
      modelProblems('scf', 'Environment', { Variables: [{ Key: 'A', Value: 1 }] }, 'Environment'),
    ).toEqual(['Environment.Variables[0].Value must be a string']);
    expect(
      fieldProblems(
        'cvm',
        MODELS.actions.RunInstances!.request,
        { VirtualPrivateCloud: { VpcId: 'vpc-1' } },
        'Run',
      ),
    ).toEqual(['Run.VirtualPrivateCloud.SubnetId is required']);
  });

  it('refuses a signed request with an unknown nested field, or an action it does not know', async () => {
    await expect(
      api().call('scf', 'CreateFunction', { FunctionName: 'f', Code: { ZipFile: 'x', Url: 'nope' } }),
    ).rejects.toThrow(CloudApiError);
    await expect(
      api().call('scf', 'CreateFunction', { FunctionName: 'f', Code: { Url: 'nope' } }),
    ).rejects.toThrow(/UnknownParameter.*Code\.Url is not a field/);
    await expect(api().call('scf', 'DescribeApi', {})).rejects.toThrow(/InvalidAction/);
    expect(cloud.rejected.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a wrong signature', async () => {
    const wrong = createCloudApi({
      credentials: { secretId: KEYS.secretId, secretKey: 'wrong', source: 'test' },
      region: 'ap-guangzhou',
      endpoint: cloud.url,
    });
    await expect(wrong.call('scf', 'GetFunction', { FunctionName: 'f' })).rejects.toThrow(
      /AuthFailure.SignatureFailure/,
    );
  });
});
