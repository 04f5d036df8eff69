using Headscale.Api.Management.ApiKeys;

namespace Headscale.Api.Management.Backends;

/// <summary>Registers the actor-backed implementations behind the management facades.</summary>
public static class ManagementBackendExtensions
{
    public static IServiceCollection AddManagementBackends(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<ManagementCaller>();
        services.AddSingleton<IApiKeyStore, ActorApiKeyStore>();
        services.AddSingleton<IPolicyManagement, ActorPolicyManagement>();
        services.AddSingleton<IHealthManagement, JournalHealthManagement>();
        services.AddSingleton<IAuditManagement, JournalAuditManagement>();
        services.AddSingleton<IUserManagement, ActorUserManagement>();
        services.AddSingleton<IPreAuthKeyManagement, ActorPreAuthKeyManagement>();
        services.AddSingleton<INodeManagement, ActorNodeManagement>();
        services.AddSingleton<ControlPlane.IMapNodeDirectory, ControlPlane.ActorMapNodeDirectory>();
        return services;
    }
}
