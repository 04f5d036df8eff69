using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Auditing;
using static Headscale.Actors.ApiKeys.ApiKeyCommands;

namespace Headscale.Actors.ApiKeys;

/// <summary>Registry key for the API key singleton proxy.</summary>
public sealed class ApiKeyDirectorySingleton;

/// <summary>API key storage for the management layer; never exposes actors.</summary>
public interface IApiKeyDirectory
{
    Task<ApiKeyResult> CreateAsync(string prefix, string hash, DateTimeOffset expiration, Cause cause, CancellationToken cancellationToken);
    Task<ApiKeyResult> ExpireAsync(string prefix, DateTimeOffset expiration, Cause cause, CancellationToken cancellationToken);
    Task<ApiKeyResult> DeleteAsync(string prefix, Cause cause, CancellationToken cancellationToken);
    Task<ApiKeyRecord?> FindAsync(string prefix, CancellationToken cancellationToken);
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken);
}

internal sealed class ApiKeyDirectoryFacade(IRequiredActor<ApiKeyDirectorySingleton> directory, TimeProvider time) : IApiKeyDirectory
{
    // Long enough for the singleton to start on a busy host right after the member joins itself.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public Task<ApiKeyResult> CreateAsync(string prefix, string hash, DateTimeOffset expiration, Cause cause, CancellationToken cancellationToken) =>
        AskAsync<ApiKeyResult>(new CreateApiKey(prefix, hash, expiration, time.GetUtcNow(), cause), cancellationToken);

    public Task<ApiKeyResult> ExpireAsync(string prefix, DateTimeOffset expiration, Cause cause, CancellationToken cancellationToken) =>
        AskAsync<ApiKeyResult>(new ExpireApiKey(prefix, expiration, time.GetUtcNow(), cause), cancellationToken);

    public Task<ApiKeyResult> DeleteAsync(string prefix, Cause cause, CancellationToken cancellationToken) =>
        AskAsync<ApiKeyResult>(new DeleteApiKey(prefix, time.GetUtcNow(), cause), cancellationToken);

    public async Task<ApiKeyRecord?> FindAsync(string prefix, CancellationToken cancellationToken) =>
        (await AskAsync<ApiKeyResult>(new GetApiKey(prefix), cancellationToken)).Key;

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(CancellationToken cancellationToken) =>
        (await AskAsync<ApiKeyList>(ListApiKeys.Instance, cancellationToken)).Keys;

    private async Task<T> AskAsync<T>(object message, CancellationToken cancellationToken)
    {
        var actor = await directory.GetAsync(cancellationToken);
        return await actor.Ask<T>(message, AskTimeout, cancellationToken);
    }
}
