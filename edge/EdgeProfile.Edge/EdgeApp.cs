using EdgeProfile.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge;

/// <summary>Builds the edge agent host; used by <c>edgeprofile-edge</c>, <c>edgeprofile edge run</c>, the demo and tests.</summary>
public static class EdgeApp
{
    /// <summary>Builds (does not start) an edge from host arguments such as <c>--Edge:StoreId=store-001</c>.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddServiceDefaults();
        builder.AddEdge();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapEdge();
        return app;
    }

    /// <summary>
    /// The first address the local API is bound to (after start; resolves port 0). Kestrel also carries the embedded
    /// MQTT listener, so its port is skipped.
    /// </summary>
    public static Uri ApiAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var mqtt = app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.Mqtt;
        return app.FirstBoundAddress(uri => mqtt.IsExternal || uri.Port != mqtt.Port);
    }
}
