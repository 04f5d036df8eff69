using System.Runtime.InteropServices;
using Headscale.Api.Hosting;

namespace Headscale.Api.Tests.Hosting;

/// <summary>Alone, not beside other tests: it reads the process's RSS around the trim.</summary>
[Collection(nameof(NativeHeapTests))]
public sealed class NativeHeapTests
{
    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException("no VmRSS");
    }

    [Fact]
    public void Freed_native_memory_the_c_library_kept_goes_back_to_the_system()
    {
        Assert.SkipUnless(
            OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "malloc_trim", out _),
            "needs glibc's malloc_trim");
        const int Chunk = 4096;
        const int Count = 64 * 256; // 64 MiB
        var chunks = new nint[Count];
        var ones = Enumerable.Repeat((byte)1, Chunk).ToArray();
        for (var i = 0; i < Count; i++)
        {
            chunks[i] = Marshal.AllocHGlobal(Chunk);
            Marshal.Copy(ones, 0, chunks[i], Chunk);
        }

        // Everything but the last chunk freed: it keeps the freed space below the heap's top, so free() cannot return it.
        for (var i = 0; i < Count - 1; i++)
        {
            Marshal.FreeHGlobal(chunks[i]);
        }

        try
        {
            var before = ResidentBytes();
            NativeHeap.Trim();
            var after = ResidentBytes();

            Assert.True(before - after >= 32L << 20, $"RSS {before >> 20} MiB before the trim, {after >> 20} MiB after");
        }
        finally
        {
            Marshal.FreeHGlobal(chunks[Count - 1]);
        }
    }
}

[CollectionDefinition(nameof(NativeHeapTests), DisableParallelization = true)]
public sealed class NativeHeapTestsCollection;
