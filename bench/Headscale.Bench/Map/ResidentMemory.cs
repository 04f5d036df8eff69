using System.Globalization;

namespace Headscale.Bench.Map;

/// <summary>
/// Where a process's resident memory is, from <c>/proc/&lt;pid&gt;/smaps</c>: the collector's regions and the native heap
/// apart from what grows once with warm-up (jitted code, assembly pages touched).
/// </summary>
public sealed record ResidentMemory(long AnonymousBytes, long NativeHeapBytes, long JittedCodeBytes, long AssemblyBytes, long OtherFileBytes)
{
    private const long ArenaAlignment = 64L << 20;

    /// <summary>Reads the smaps of <paramref name="processId"/>; null where there is no /proc (not Linux).</summary>
    public static ResidentMemory? Read(int processId)
    {
        var path = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/smaps";
        return File.Exists(path) ? Parse(File.ReadLines(path)) : null;
    }

    /// <summary>
    /// Sorts each mapping's Rss: glibc's arenas (anonymous, 64 MiB-aligned, at most 64 MiB) and <c>[heap]</c> are native
    /// heap; the runtime's double-mapped code is jitted code; <c>.dll</c> files are assemblies; other files (shared
    /// libraries) apart; everything else anonymous (the collector's regions, stacks, loader heaps).
    /// </summary>
    public static ResidentMemory Parse(IEnumerable<string> smaps)
    {
        long anonymous = 0, native = 0, jitted = 0, assemblies = 0, otherFiles = 0;
        Action<long>? addTo = null;
        foreach (var line in smaps)
        {
            if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                addTo?.Invoke(kib * 1024);
                continue;
            }

            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || !fields[0].Contains('-', StringComparison.Ordinal) || fields[0].EndsWith(':'))
            {
                continue;
            }

            var range = fields[0].Split('-');
            var start = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var size = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) - start;
            var name = fields.Length == 6 ? fields[5].Trim() : "";
            addTo = name switch
            {
                "[heap]" => bytes => native += bytes,
                "" when start % ArenaAlignment == 0 && size <= ArenaAlignment => bytes => native += bytes,
                "" => bytes => anonymous += bytes,
                _ when name.Contains("doublemapper", StringComparison.Ordinal) => bytes => jitted += bytes,
                _ when name.EndsWith(".dll", StringComparison.Ordinal) => bytes => assemblies += bytes,
                _ when name.StartsWith('[') => bytes => anonymous += bytes,
                _ => bytes => otherFiles += bytes,
            };
        }

        return new ResidentMemory(anonymous, native, jitted, assemblies, otherFiles);
    }
}
