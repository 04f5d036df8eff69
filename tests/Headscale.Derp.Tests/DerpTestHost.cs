using System.Net;
using System.Net.Sockets;
using System.Text;
using Headscale.Derp.Client;
using Headscale.Derp.Hosting;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Derp.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.Derp.Tests;

/// <summary>A real Kestrel host on 127.0.0.1, port 0, with the DERP endpoints mapped as the API host would.</summary>
internal sealed class DerpTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DerpTestHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public DerpServer Server => _app.Services.GetRequiredService<DerpServer>();
    public Uri DerpUrl => new($"http://127.0.0.1:{Port}/derp");
    public Uri WebSocketUrl => new($"ws://127.0.0.1:{Port}/derp");
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    public static Task<DerpTestHost> StartAsync(Action<DerpServerOptions>? configure = null, IDerpClientVerifier? verifier = null) =>
        StartAsync(0, configure, verifier);

    public static async Task<DerpTestHost> StartAsync(int port, Action<DerpServerOptions>? configure, IDerpClientVerifier? verifier,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        if (verifier is not null) builder.Services.AddSingleton(verifier);
        services?.Invoke(builder.Services);
        builder.Services.AddDerpServer(o =>
        {
            o.PrivateKey = DerpPrivateKey.Generate();
            o.VerifyClients = verifier is not null;
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapDerp();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DerpTestHost(app, new Uri(address).Port);
    }

    public Task<DerpClient> ConnectAsync(DerpPrivateKey? key = null, bool webSocket = false, DerpClientOptions? options = null) =>
        DerpClient.ConnectAsync(webSocket ? WebSocketUrl : DerpUrl, key ?? DerpPrivateKey.Generate(), options,
            TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

internal static class TestWait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Awaits a condition by polling it, failing with <paramref name="what"/> after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            await timer.WaitForNextTickAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Receives frames until one of <paramref name="type"/> arrives (keep-alives and others are skipped).</summary>
    public static async Task<DerpReceived> ReceiveAsync(DerpClient client, DerpFrameType type, Memory<byte> buffer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Timeout);
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cts.Token);
            if (frame.Type == type) return frame;
        }
    }
}

/// <summary>A raw TCP DERP connection for malformed-input tests: upgrade by hand, then raw frames.</summary>
internal sealed class RawDerpConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    public NetworkStream Stream { get; }

    private RawDerpConnection(Socket socket)
    {
        _socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawDerpConnection> OpenAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        return new RawDerpConnection(socket);
    }

    public async Task UpgradeAsync()
    {
        await WriteAsync(Encoding.ASCII.GetBytes("GET /derp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"));
        var head = await ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", head);
    }

    public Task WriteAsync(byte[] bytes) => Stream.WriteAsync(bytes, TestContext.Current.CancellationToken).AsTask();

    /// <summary>Reads byte by byte up to the blank line, so no DERP bytes are consumed.</summary>
    public async Task<string> ReadHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await Stream.ReadAsync(one, TestContext.Current.CancellationToken) == 0) break;
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    public async Task<(DerpFrameType Type, byte[] Payload)> ReadFrameAsync()
    {
        var header = new byte[5];
        await Stream.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        var payload = new byte[System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await Stream.ReadExactlyAsync(payload, TestContext.Current.CancellationToken);
        return ((DerpFrameType)header[0], payload);
    }

    /// <summary>Reads until the server closes the connection; returns everything read.</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TestWait.Timeout);
        var all = new MemoryStream();
        try
        {
            await Stream.CopyToAsync(all, cts.Token);
        }
        catch (IOException)
        {
            // A reset is also a close.
        }
        return all.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _socket.Dispose();
    }
}
