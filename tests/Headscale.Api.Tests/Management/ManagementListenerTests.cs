using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>grpc_listen_addr with TLS, without TLS, and the refusal to bind plaintext by accident.</summary>
public sealed class ManagementListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Without_tls_and_without_allow_insecure_nothing_is_bound()
    {
        var kestrel = new KestrelServerOptions();

        var bound = kestrel.ListenManagementGrpc(new IPEndPoint(IPAddress.Loopback, 0), certificate: null, allowInsecure: false);

        Assert.Null(bound);
    }

    [Fact]
    public async Task Grpc_over_tls_authenticates_with_a_key()
    {
        using var certificate = SelfSigned();
        ListenOptions? grpc = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => grpc = k.ListenManagementGrpc(new IPEndPoint(IPAddress.Loopback, 0), certificate, allowInsecure: false));
        var keys = new InMemoryApiKeyStore();
        builder.Services.AddSingleton<Headscale.Api.Management.ApiKeys.IApiKeyStore>(keys);
        builder.Services.AddHeadscaleManagementApi();
        builder.Services.AddSingleton<INodeManagement>(new FakeManagement());
        await using var app = builder.Build();
        app.MapHeadscaleManagementApi();
        await app.StartAsync(Ct);
        var key = Headscale.Api.Management.ApiKeys.ApiKeyCodec.Generate(Headscale.Api.Management.ApiKeys.ApiKeyForm.Legacy);
        keys.Put(key.Prefix, InMemoryApiKeyStore.CheapHash(key.Secret), DateTimeOffset.UtcNow.AddHours(1), DateTimeOffset.UtcNow);

        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{grpc!.IPEndPoint!.Port}", new GrpcChannelOptions { HttpHandler = handler });
        var client = new HeadscaleService.HeadscaleServiceClient(channel);

        var nodes = await client.ListNodesAsync(new ListNodesRequest(), new Metadata { { "authorization", "Bearer " + key.FullKey } }, cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct));

        // The CLI's remote mode with cli.insecure: TLS without verifying the self-signed certificate.
        using var cli = ManagementClientConnection.Open(new ManagementClientOptions(
            $"127.0.0.1:{grpc.IPEndPoint.Port}", key.FullKey, Insecure: true, UnixSocket: "", TimeSpan.FromSeconds(30)));
        var viaCli = await cli.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct);

        Assert.Equal(2, nodes.Nodes.Count);
        Assert.Equal(2, viaCli.Nodes.Count);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        await app.StopAsync(Ct);
    }

    [Theory]
    [InlineData("0770", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute)]
    [InlineData("600", UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData("0o660", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite)]
    public void Socket_permission_parses_octal(string text, UnixFileMode expected)
    {
        Assert.True(ManagementKestrelExtensions.TryParseUnixSocketPermission(text, out var mode, out var error), error);
        Assert.Equal(expected, mode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0780")]
    [InlineData("rwxr-x---")]
    [InlineData("07777")]
    public void Socket_permission_refuses_non_octal(string text)
    {
        Assert.False(ManagementKestrelExtensions.TryParseUnixSocketPermission(text, out _, out var error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/v1/nothing/here", HttpStatusCode.NotFound, """{"code":5,"message":"Not Found","details":[]}""")]
    [InlineData("GET", "/api/v1/node/1/rename", HttpStatusCode.NotFound, """{"code":5,"message":"Not Found","details":[]}""")]
    [InlineData("PUT", "/api/v1/user", HttpStatusCode.NotImplemented, """{"code":12,"message":"Method Not Allowed","details":[]}""")]
    [InlineData("GET", "/api/v1/node/1/expire", HttpStatusCode.NotImplemented, """{"code":12,"message":"Method Not Allowed","details":[]}""")]
    [InlineData("PATCH", "/api/v1/user/7/rename/x", HttpStatusCode.NotImplemented, """{"code":12,"message":"Method Not Allowed","details":[]}""")]
    public async Task Unrouted_api_request_with_a_valid_key_gets_grpc_gateway_routing_error(
        string method, string path, HttpStatusCode status, string body)
    {
        await using var server = await ManagementTestServer.StartAsync(new FakeManagement(), Ct);

        using var response = await server.Rest(server.AddKey()).SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Ct));
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }
}
