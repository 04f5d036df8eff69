namespace Headscale.IntegrationTests.Deployment;

/// <summary>The repository's deployment files (compose/, nginx/, config/, Dockerfile), found from the test binaries.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Headscale.Actors.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Headscale.Actors.sln not found above {AppContext.BaseDirectory}: the deployment tests read the repository's files.");
    }
}
