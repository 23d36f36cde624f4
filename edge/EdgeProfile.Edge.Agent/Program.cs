using EdgeProfile.Edge;
using EdgeProfile.Hosting;

return await ServiceRunner.RunAsync("edgeprofile-edge", () => EdgeApp.Build(args));
