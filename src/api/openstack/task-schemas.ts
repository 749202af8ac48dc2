/** Glance's task statuses. */
export const TASK_STATUSES = ["pending", "processing", "success", "failure"];

/** The task schema: served at /v2/schemas/task, and what every task answer is checked against. */
export const TASK_SCHEMA = {
  name: "task",
  properties: {
    id: { type: "string", description: "The task's id" },
    type: { type: "string", enum: ["import", "api_image_import"], description: "What the task does" },
    status: { type: "string", enum: TASK_STATUSES, description: "Where the task stands" },
    input: { type: "object", description: "What the task was asked to do" },
    result: { type: ["null", "object"], description: "What the task produced" },
    owner: { type: "string", description: "The project the task belongs to" },
    message: { type: "string", description: "Why it failed, when it did" },
    image_id: { type: "string", description: "The image the task works on" },
    request_id: { type: "string", description: "The API request that started it" },
    user_id: { type: "string", description: "Who started it" },
    expires_at: { type: ["null", "string"], description: "When its record goes away" },
    created_at: { type: "string", description: "When it was created" },
    updated_at: { type: "string", description: "When it last changed" },
    self: { type: "string" },
    schema: { type: "string" },
  },
};

export const TASKS_SCHEMA = {
  name: "tasks",
  properties: {
    tasks: { type: "array", items: TASK_SCHEMA },
    first: { type: "string" },
    next: { type: "string" },
    schema: { type: "string" },
  },
  links: [
    { rel: "first", href: "{first}" },
    { rel: "next", href: "{next}" },
    { rel: "describedby", href: "{schema}" },
  ],
};
