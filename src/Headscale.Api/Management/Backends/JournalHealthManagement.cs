using Headscale.Actors.Persistence;
using Headscale.Management.V1;

namespace Headscale.Api.Management.Backends;

/// <summary>The Health RPC: whether the journal database answers, as <c>/health</c> reports it.</summary>
public sealed class JournalHealthManagement(JournalDatabase database) : IHealthManagement
{
    public async Task<ManagementResult<HealthResponse>> HealthAsync(HealthRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Endpoints.ServerInfoEndpoints.HealthProbeTimeout);
        return new HealthResponse { DatabaseConnectivity = await database.PingAsync(timeout.Token) };
    }
}
