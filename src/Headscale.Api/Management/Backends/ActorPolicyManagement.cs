using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.Policy;
using Headscale.Api.Configuration;
using Headscale.Management.V1;
using static Headscale.Actors.Policy.PolicyCommands;

namespace Headscale.Api.Management.Backends;

/// <summary>
/// GetPolicy/SetPolicy. In database mode the policy singleton holds the text; in file mode the
/// file is read and updates are refused with Headscale's wording (Headplane then shows the
/// policy as read-only).
/// </summary>
public sealed class ActorPolicyManagement(IPolicyStore store, HeadscaleConfig config, ManagementCaller caller) : IPolicyManagement
{
    public async Task<ManagementResult<GetPolicyResponse>> GetPolicyAsync(GetPolicyRequest request, CancellationToken cancellationToken)
    {
        if (config.Policy.Mode == PolicyMode.File)
        {
            return config.Policy.Path is { } path && File.Exists(path)
                ? new GetPolicyResponse { Policy = await File.ReadAllTextAsync(path, cancellationToken) }
                : ManagementError.NotFound(ManagementErrors.PolicyNotFound);
        }

        var result = await store.GetAsync(cancellationToken);
        return result.Code == PolicyResultCode.Ok
            ? new GetPolicyResponse { Policy = result.Text, UpdatedAt = Timestamp.FromDateTimeOffset(result.UpdatedAt!.Value) }
            : ManagementError.NotFound(ManagementErrors.PolicyNotFound);
    }

    public async Task<ManagementResult<SetPolicyResponse>> SetPolicyAsync(SetPolicyRequest request, CancellationToken cancellationToken)
    {
        if (config.Policy.Mode != PolicyMode.Database)
        {
            return ManagementError.FailedPrecondition(ManagementErrors.PolicyUpdateDisabled);
        }

        var result = await store.SetAsync(request.Policy, caller.Current, cancellationToken);
        return result.Code == PolicyResultCode.Ok
            ? new SetPolicyResponse { Policy = result.Text, UpdatedAt = Timestamp.FromDateTimeOffset(result.UpdatedAt!.Value) }
            : ManagementError.InvalidArgument(ManagementErrors.PolicyDecodePrefix + result.Message);
    }
}
