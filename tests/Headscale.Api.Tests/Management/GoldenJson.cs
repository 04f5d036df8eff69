using System.Text.Json.Nodes;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Compares JSON with a golden file under Management/Golden. Property order matters (grpc-gateway
/// writes fields in field-number order), so do types: "1" is not 1, [] is not absent.
/// </summary>
internal static class GoldenJson
{
    public static JsonNode Load(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Management", "Golden", file)))!;

    /// <param name="absentMeansNull">
    /// For protobuf's own JSON formatter (the gRPC side), which leaves out unset message fields
    /// where grpc-gateway writes null.
    /// </param>
    public static void AssertMatches(string file, string actualJson, bool absentMeansNull = false, string? property = null)
    {
        var actual = JsonNode.Parse(actualJson);
        var expected = property is null ? Load(file) : Load(file)?[property];
        var difference = FindDifference("$", expected, actual, absentMeansNull);
        Assert.True(difference is null, $"{file}: {difference}\nactual: {actualJson}");
    }

    private static string? FindDifference(string path, JsonNode? expected, JsonNode? actual, bool absentMeansNull)
    {
        switch (expected)
        {
            case null:
                return actual is null ? null : $"{path}: expected null, got {actual.ToJsonString()}";
            case JsonObject expectedObject:
                if (actual is not JsonObject actualObject)
                {
                    return $"{path}: expected an object, got {actual?.ToJsonString() ?? "null"}";
                }

                var expectedNames = expectedObject
                    .Where(p => !(absentMeansNull && p.Value is null && !actualObject.ContainsKey(p.Key)))
                    .Select(p => p.Key).ToList();
                var actualNames = actualObject.Select(p => p.Key).ToList();
                if (!expectedNames.SequenceEqual(actualNames))
                {
                    return $"{path}: expected properties [{string.Join(",", expectedNames)}] in this order, got [{string.Join(",", actualNames)}]";
                }

                foreach (var name in expectedNames)
                {
                    var difference = FindDifference($"{path}.{name}", expectedObject[name], actualObject[name], absentMeansNull);
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            case JsonArray expectedArray:
                if (actual is not JsonArray actualArray || actualArray.Count != expectedArray.Count)
                {
                    return $"{path}: expected {expectedArray.ToJsonString()}, got {actual?.ToJsonString() ?? "null"}";
                }

                for (var i = 0; i < expectedArray.Count; i++)
                {
                    var difference = FindDifference($"{path}[{i}]", expectedArray[i], actualArray[i], absentMeansNull);
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            default:
                return actual is JsonValue && JsonNode.DeepEquals(expected, actual)
                    ? null
                    : $"{path}: expected {expected.ToJsonString()}, got {actual?.ToJsonString() ?? "absent/null"}";
        }
    }
}
