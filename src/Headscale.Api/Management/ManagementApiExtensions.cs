using System.Text.Json.Serialization;
using Headscale.Api.Management.ApiKeys;
using Headscale.Api.Management.OpenApi;
using Headscale.Management.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Headscale.Api.Management;

/// <summary>The error body grpc-gateway writes: google.rpc.Status in JSON.</summary>
internal sealed record RestErrorBody(int Code, string Message, object[] Details);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RestErrorBody))]
internal sealed partial class ManagementJsonContext : JsonSerializerContext;

/// <summary>Composition of the management API: call both from the composition root.</summary>
public static class ManagementApiExtensions
{
    public const string OpenApiDocumentPath = "/swagger/v1/openapiv2.json";

    /// <summary>Where the Swagger UI is served (<c>/swagger</c>).</summary>
    public const string SwaggerRoutePrefix = "swagger";

    private const string RestPrefix = ManagementAuthenticationMiddleware.RestPathPrefix;

    private static readonly Lazy<byte[]> OpenApiDocument = new(() =>
        OpenApiV2DocumentGenerator.Generate(HeadscaleService.Descriptor, "headscale/v1/headscale.proto"));

    /// <summary>
    /// gRPC with JSON transcoding in grpc-gateway's JSON conventions, API-key authentication and
    /// the facades. Facades not registered by the domain layer answer Unimplemented; an
    /// <see cref="IApiKeyStore"/> not registered by it knows no keys. Registering a real
    /// implementation before or after this call replaces the placeholder.
    /// </summary>
    public static IServiceCollection AddHeadscaleManagementApi(this IServiceCollection services)
    {
        services.AddGrpc(options => options.Interceptors.Add<Observability.GrpcMetricsInterceptor>()).AddJsonTranscoding(options =>
        {
            options.JsonSettings.WriteInt64sAsStrings = true;
            options.JsonSettings.WriteEnumsAsIntegers = false;
            options.JsonSettings.IgnoreDefaultValues = false;
        });
        services.AddGrpc().AddServiceOptions<HeadscaleGrpcService>(options =>
        {
            options.Interceptors.Add<ManagementExceptionInterceptor>();
            options.Interceptors.Add<ManagementRequestValidationInterceptor>();
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IApiKeyStore, UnavailableApiKeyStore>();
        services.TryAddSingleton<ApiKeyAuthenticator>();
        services.TryAddSingleton<IApiKeyManagement>(sp => new StoreBackedApiKeyManagement(
            sp.GetRequiredService<IApiKeyStore>(), sp.GetRequiredService<TimeProvider>()));

        services.TryAddSingleton<UnimplementedManagement>();
        services.TryAddSingleton<IUserManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        services.TryAddSingleton<INodeManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        services.TryAddSingleton<IPreAuthKeyManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        services.TryAddSingleton<IPolicyManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        services.TryAddSingleton<IHealthManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        services.TryAddSingleton<IAuditManagement>(sp => sp.GetRequiredService<UnimplementedManagement>());
        return services;
    }

    /// <summary>
    /// Adds the authentication and grpc-gateway JSON middleware for <c>/api/v1</c> and the gRPC service path, maps the
    /// service (gRPC and REST) and serves the OpenAPI v2 document and its Swagger UI (<c>/swagger</c>) without authentication.
    /// Call it before mapping other endpoints that must not see unauthenticated API calls.
    /// </summary>
    public static WebApplication MapHeadscaleManagementApi(this WebApplication app)
    {
        app.UseMiddleware<ManagementAuthenticationMiddleware>();
        app.UseMiddleware<GrpcGatewayJsonMiddleware>();
        app.MapGrpcService<HeadscaleGrpcService>();
        app.MapGet(OpenApiDocumentPath, () => Results.Bytes(OpenApiDocument.Value, "application/json"));
        // Headscale's browsable API documentation at /swagger, over the same document (no key needed to read it;
        // trying a call needs one, entered with the page's Authorize button).
        // In a branch: the UI's middleware is async and would stay on the stack of every long-lived request (map streams).
        app.UseWhen(
            static context => context.Request.Path.StartsWithSegments("/" + SwaggerRoutePrefix, StringComparison.OrdinalIgnoreCase),
            static branch => branch.UseSwaggerUI(options =>
            {
                options.RoutePrefix = SwaggerRoutePrefix;
                options.SwaggerEndpoint(OpenApiDocumentPath, "headscale.v1");
                options.DocumentTitle = "headscale API";
            }));
        // grpc-gateway answers unrouted API requests with a gRPC-status body, not an empty 404/405.
        app.MapFallback(RestPrefix + "/{**rest}", (HttpRequest request) => UnmatchedRestRoute.Answer(request));
        return app;
    }
}
