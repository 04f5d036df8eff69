using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// The repository's Dockerfile, checked without a Docker engine: the dockerfile-utils linter (npm;
/// test.sh installs it) and the structure docs/deployment.md promises.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string[] Lines = JoinContinuations(RepositoryFiles.Read("Dockerfile"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_linter_reports_no_problem()
    {
        var linter = FindOnPath("dockerfile-utils")
            ?? throw new InvalidOperationException("dockerfile-utils not found: install it with 'npm install -g dockerfile-utils@0.16.3' (test.sh does this).");
        var start = new ProcessStartInfo(linter) { ArgumentList = { "lint", RepositoryFiles.PathOf("Dockerfile") }, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0 && output.Trim().Length == 0, $"dockerfile-utils lint:\n{output}");
    }

    [Fact]
    public void It_builds_in_one_stage_and_runs_in_another()
    {
        var stages = Instructions("FROM").Select(f => FromLine().Match(f)).ToArray();

        Assert.True(stages.Length >= 2, "expected a multi-stage build");
        Assert.All(stages, s => Assert.True(s.Success, "every stage is named: FROM image AS name"));
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", stages[0].Groups["image"].Value, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", stages[^1].Groups["image"].Value, StringComparison.Ordinal);
        Assert.All(stages, s => Assert.DoesNotContain(":latest", s.Groups["image"].Value, StringComparison.Ordinal));
        var names = stages.Select(s => s.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var copyFrom in Instructions("COPY").Select(c => CopyFrom().Match(c)).Where(m => m.Success))
        {
            Assert.Contains(copyFrom.Groups[1].Value, names);
        }
    }

    [Fact]
    public void The_final_stage_runs_as_a_non_root_user_with_a_health_check()
    {
        var finalStage = Lines.SkipWhile(l => l != Instructions("FROM").Last()).ToArray();
        var user = finalStage.Where(l => l.StartsWith("USER ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).LastOrDefault();

        Assert.NotNull(user);
        Assert.DoesNotMatch(@"^(root|0)(:.*)?$", user);
        var healthcheck = Assert.Single(finalStage, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.Contains("/health", healthcheck, StringComparison.Ordinal);
        Assert.Contains(finalStage, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_is_fetched_with_add_and_every_copied_path_exists_and_is_not_ignored()
    {
        Assert.DoesNotContain(Instructions("ADD"), a => a.Contains("://", StringComparison.Ordinal));
        var ignored = File.ReadAllLines(RepositoryFiles.PathOf(".dockerignore"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.TrimEnd('/')).ToArray();

        foreach (var copy in Instructions("COPY").Where(c => !c.Contains("--from=", StringComparison.Ordinal)))
        {
            var sources = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1];
            foreach (var source in sources)
            {
                var path = RepositoryFiles.PathOf(source.TrimEnd('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: not in the repository");
                Assert.DoesNotContain(source.TrimEnd('/'), ignored);
            }
        }
    }

    [Fact]
    public void The_restore_layer_copies_every_project_the_server_references()
    {
        var restore = Lines.TakeWhile(l => !l.StartsWith("RUN dotnet restore", StringComparison.Ordinal)).ToArray();
        var copied = restore.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToHashSet(StringComparer.Ordinal);

        Assert.Contains(Lines, l => l.StartsWith("RUN dotnet restore src/Headscale.Api/Headscale.Api.csproj", StringComparison.Ordinal));
        foreach (var project in ProjectClosure("src/Headscale.Api/Headscale.Api.csproj"))
        {
            Assert.True(copied.Contains(project), $"{project} is referenced by the server but not copied before 'dotnet restore'");
        }

        Assert.Contains("Directory.Packages.props", copied);
        Assert.Contains("Directory.Build.props", copied);
    }

    /// <summary>A project and every project it references, as repository-relative paths.</summary>
    private static SortedSet<string> ProjectClosure(string project)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!found.Add(current))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(current)!;
            foreach (Match reference in ProjectReference().Matches(RepositoryFiles.Read(current)))
            {
                var full = Path.GetFullPath(Path.Combine(RepositoryFiles.Root, directory, reference.Groups[1].Value));
                pending.Push(Path.GetRelativePath(RepositoryFiles.Root, full).Replace('\\', '/'));
            }
        }

        return found;
    }

    private static IEnumerable<string> Instructions(string keyword) =>
        Lines.Where(l => l.StartsWith(keyword + " ", StringComparison.Ordinal));

    /// <summary>Logical lines: continuations joined, comments and blanks dropped.</summary>
    private static string[] JoinContinuations(string text)
    {
        var lines = new List<string>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (current.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            lines.Add(current + line);
            current = "";
        }

        return [.. lines];
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    [GeneratedRegex(@"^FROM\s+(?<image>\S+)\s+AS\s+(?<name>\S+)$", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"<ProjectReference\s+Include=""([^""]+)""")]
    private static partial Regex ProjectReference();

    [GeneratedRegex(@"--from=(\S+)")]
    private static partial Regex CopyFrom();
}
