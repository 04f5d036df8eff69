using System.CommandLine;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary><c>headscale health</c>: the Health RPC; exit code 1 when the database does not answer.</summary>
public static class HealthCommand
{
    public static Command Create()
    {
        var command = new Command("health", "Check that the server answers and its database is reachable");
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var response = await client.HealthAsync(new HealthRequest(), cancellationToken: token);
            ProtoOutput.Write(output, response, () => response.DatabaseConnectivity
                ? "healthy: the database is reachable"
                : "unhealthy: the database is not reachable");
            return response.DatabaseConnectivity ? 0 : 1;
        }, ct));
        return command;
    }
}
