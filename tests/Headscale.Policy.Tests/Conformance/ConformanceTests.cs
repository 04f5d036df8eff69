using System.Text;
using System.Text.Json;
using Xunit;

namespace Headscale.Policy.Tests.Conformance;

/// <summary>
/// Runs every scenario of the policy conformance corpus through <see cref="ScenarioEvaluator"/> and judges it.
/// Every failure stays in the report (test output and conformance-report.md next to the test binaries).
/// The test fails only when the pass count drops below the floor recorded in conformance-floor.txt, so
/// the count can only go up.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    private static string CorpusDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("HEADSCALE_POLICY_CORPUS");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance", "policy");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("policy conformance corpus not found: set HEADSCALE_POLICY_CORPUS or place it at ../shared/conformance/policy");
    }

    [Fact]
    public void Pass_count_never_drops_below_the_recorded_floor()
    {
        var corpus = CorpusDirectory();
        var files = Directory.GetFiles(corpus, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var perCategory = new SortedDictionary<string, (int Passed, int Total)>(StringComparer.Ordinal);
        var failures = new List<string>();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            using var scenario = JsonDocument.Parse(text);
            var category = scenario.RootElement.GetProperty("category").GetString()!;
            var id = scenario.RootElement.GetProperty("id").GetString()!;
            string? diff;
            try
            {
                using var result = JsonDocument.Parse(ScenarioEvaluator.Evaluate(text));
                diff = ConformanceJudge.Judge(scenario.RootElement, result.RootElement);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException or JsonException)
            {
                diff = $"evaluator threw {ex.GetType().Name}: {ex.Message}";
            }
            var (p, t) = perCategory.GetValueOrDefault(category);
            perCategory[category] = (p + (diff is null ? 1 : 0), t + 1);
            if (diff is not null) failures.Add($"FAIL {category}/{id}: {diff}");
        }

        var passed = perCategory.Values.Sum(v => v.Passed);
        var total = perCategory.Values.Sum(v => v.Total);
        var report = new StringBuilder();
        foreach (var f in failures) report.AppendLine(f);
        report.AppendLine();
        report.AppendLine("| Category | Passed | Total |");
        report.AppendLine("|---|---:|---:|");
        foreach (var (category, (p, t)) in perCategory) report.AppendLine($"| {category} | {p} | {t} |");
        report.AppendLine($"| **all** | **{passed}** | **{total}** |");
        report.AppendLine();
        report.AppendLine($"{passed} passed, {total - passed} failed");
        var text2 = report.ToString();
        output.WriteLine(text2);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "conformance-report.md"), text2);

        var floor = int.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "conformance-floor.txt")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(passed >= floor, $"conformance dropped: {passed} passed, the recorded floor is {floor}");
    }
}
