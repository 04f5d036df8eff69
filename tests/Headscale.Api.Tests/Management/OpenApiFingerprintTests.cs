using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Headplane 0.6 detects the Headscale version by fingerprinting the operations of
/// /swagger/v1/openapiv2.json (headplane-api.md §3). Our document must score all 25 operations
/// of 0.27.1 (openapi-operations-0.27.1.md).
/// </summary>
public sealed class OpenApiFingerprintTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    /// <summary>openapi-operations-0.27.1.md: path, method, parameters as name/in.</summary>
    private static readonly (string Path, string Method, string[] Parameters)[] Headscale0271 =
    [
        ("/api/v1/apikey", "GET", []),
        ("/api/v1/apikey", "POST", ["body/body"]),
        ("/api/v1/apikey/expire", "POST", ["body/body"]),
        ("/api/v1/apikey/{prefix}", "DELETE", ["prefix/path"]),
        ("/api/v1/debug/node", "POST", ["body/body"]),
        ("/api/v1/health", "GET", []),
        ("/api/v1/node", "GET", ["user/query"]),
        ("/api/v1/node/backfillips", "POST", ["confirmed/query"]),
        ("/api/v1/node/register", "POST", ["user/query", "key/query"]),
        ("/api/v1/node/{nodeId}", "DELETE", ["nodeId/path"]),
        ("/api/v1/node/{nodeId}", "GET", ["nodeId/path"]),
        ("/api/v1/node/{nodeId}/approve_routes", "POST", ["nodeId/path", "body/body"]),
        ("/api/v1/node/{nodeId}/expire", "POST", ["nodeId/path", "expiry/query"]),
        ("/api/v1/node/{nodeId}/rename/{newName}", "POST", ["nodeId/path", "newName/path"]),
        ("/api/v1/node/{nodeId}/tags", "POST", ["nodeId/path", "body/body"]),
        ("/api/v1/node/{nodeId}/user", "POST", ["nodeId/path", "body/body"]),
        ("/api/v1/policy", "GET", []),
        ("/api/v1/policy", "PUT", ["body/body"]),
        ("/api/v1/preauthkey", "GET", ["user/query"]),
        ("/api/v1/preauthkey", "POST", ["body/body"]),
        ("/api/v1/preauthkey/expire", "POST", ["body/body"]),
        ("/api/v1/user", "GET", ["id/query", "name/query", "email/query"]),
        ("/api/v1/user", "POST", ["body/body"]),
        ("/api/v1/user/{id}", "DELETE", ["id/path"]),
        ("/api/v1/user/{oldId}/rename/{newName}", "POST", ["oldId/path", "newName/path"]),
    ];

    /// <summary>Operations this server adds; Headplane's scoring ignores unknown fingerprints.</summary>
    private static readonly (string Path, string Method, string[] Parameters)[] Extensions =
    [
        ("/api/v1/audit", "GET", ["from/query", "to/query", "kind/query", "actor/query", "subject/query", "pageSize/query", "pageToken/query"]),
    ];

    private static readonly string[] FingerprintKeys = ["method", "parameters", "path", "responses"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonObject> FetchDocumentAsync()
    {
        using var response = await fixture.Server.Rest().GetAsync("/swagger/v1/openapiv2.json", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!.AsObject();
    }

    [Fact]
    public async Task Headplane_fingerprint_finds_all_25_operations_of_0_27_1()
    {
        var served = Fingerprints(await FetchDocumentAsync());

        var expected = Headscale0271.Select(op => ExpectedFingerprint(op.Path, op.Method, op.Parameters.Length)).ToList();

        Assert.Equal(25, expected.Distinct().Count());
        Assert.All(expected, fingerprint => Assert.Contains(fingerprint, served));
        // 0.27.0's ExpireNode had one parameter fewer; we must not look like it.
        Assert.DoesNotContain(ExpectedFingerprint("/api/v1/node/{nodeId}/expire", "POST", 1), served);
    }

    [Fact]
    public async Task Operations_match_0_27_1_exactly_in_path_method_and_parameters_plus_our_extensions()
    {
        var document = await FetchDocumentAsync();

        var actual = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (
                Path: path.Key,
                Method: op.Key.ToUpperInvariant(),
                Parameters: string.Join(",", (op.Value!["parameters"]?.AsArray() ?? [])
                    .Select(p => $"{(string)p!["name"]!}/{(string)p["in"]!}")))))
            .OrderBy(op => op.Path, StringComparer.Ordinal).ThenBy(op => op.Method, StringComparer.Ordinal)
            .ToList();
        var expected = Headscale0271.Concat(Extensions)
            .Select(op => (op.Path, op.Method, Parameters: string.Join(",", op.Parameters)))
            .OrderBy(op => op.Path, StringComparer.Ordinal).ThenBy(op => op.Method, StringComparer.Ordinal)
            .ToList();

        Assert.Equal(expected, actual);
        Assert.Equal("2.0", (string)document["swagger"]!);
    }

    [Fact]
    public async Task Every_operation_references_defined_schemas()
    {
        var document = await FetchDocumentAsync();
        var definitions = document["definitions"]!.AsObject();

        var references = document.ToJsonString().Split("\"#/definitions/").Skip(1).Select(s => s[..s.IndexOf('"')]).Distinct().ToList();

        Assert.NotEmpty(references);
        Assert.All(references, name => Assert.True(definitions.ContainsKey(name), $"{name} is referenced but not defined"));
        Assert.Equal("string", (string)definitions["v1Node"]!["properties"]!["id"]!["type"]!);
        Assert.Equal("uint64", (string)definitions["v1Node"]!["properties"]!["id"]!["format"]!);
    }

    /// <summary>
    /// Headplane: md5(JSON.stringify({path, method: METHOD, parameters, responses},
    /// ["method","parameters","path","responses"])), first 16 hex digits. The key list applies at
    /// every depth and orders the keys; undefined properties are left out.
    /// </summary>
    private static HashSet<string> Fingerprints(JsonObject document)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var input = new JsonObject
                {
                    ["path"] = path,
                    ["method"] = method.ToUpperInvariant(),
                    ["responses"] = operation!["responses"]?.DeepClone(),
                };
                if (operation["parameters"] is { } parameters)
                {
                    input["parameters"] = parameters.DeepClone();
                }

                result.Add(Md5Prefix(StringifyWithKeyList(input)));
            }
        }

        return result;
    }

    private static string ExpectedFingerprint(string path, string method, int parameterCount)
    {
        var parameters = parameterCount == 0 ? "" : $"\"parameters\":[{string.Join(",", Enumerable.Repeat("{}", parameterCount))}],";
        return Md5Prefix($"{{\"method\":\"{method}\",{parameters}\"path\":\"{path}\",\"responses\":{{}}}}");
    }

    private static string StringifyWithKeyList(JsonNode? node) => node switch
    {
        JsonObject obj => "{" + string.Join(",", FingerprintKeys
            .Where(obj.ContainsKey)
            .Select(key => $"\"{key}\":{StringifyWithKeyList(obj[key])}")) + "}",
        JsonArray array => "[" + string.Join(",", array.Select(StringifyWithKeyList)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private static string Md5Prefix(string text) =>
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
