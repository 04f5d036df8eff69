using System.Net;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>Many requests at once from one client address, as a rate-limit test needs.</summary>
public static class RequestBurst
{
    public static async Task<List<HttpStatusCode>> SendAsync(HttpClient http, string path, int count, CancellationToken cancellationToken)
    {
        var requests = Enumerable.Range(0, count).Select(async _ =>
        {
            using var response = await http.GetAsync(path, cancellationToken);
            return response.StatusCode;
        });
        return [.. await Task.WhenAll(requests)];
    }
}
