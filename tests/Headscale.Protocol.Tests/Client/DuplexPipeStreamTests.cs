using System.IO.Pipelines;
using Headscale.Protocol.Client;
using Xunit;

namespace Headscale.Protocol.Tests.Client;

public sealed class DuplexPipeStreamTests
{
    [Fact]
    public async Task Dispose_returns_without_waiting_for_the_connection_to_close()
    {
        var closing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipe = new Pipe();
        var stream = new DuplexPipeStream(pipe.Reader, pipe.Writer, () =>
        {
            closeStarted.TrySetResult();
            return new ValueTask(closing.Task);
        });

        // A synchronous Dispose (as HttpClient does to its connections' streams) must not hold its thread until the close ends.
        await Task.Run(stream.Dispose, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        await closeStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        closing.SetResult();
    }

    [Fact]
    public async Task DisposeAsync_waits_for_the_connection_to_close()
    {
        var closing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipe = new Pipe();
        var stream = new DuplexPipeStream(pipe.Reader, pipe.Writer, () => new ValueTask(closing.Task));

        var disposing = stream.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        closing.SetResult();
        await disposing.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }
}
