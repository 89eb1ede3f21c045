// svc/no-promise-assertion: an assertion handed a Promise instead of its value
// (`expect(rules).toEqual(destinations())` with an async destinations): it compares the
// Promise object, so it can never pass, or, with toBeDefined, never fail. typescript-eslint has
// no rule for a Promise passed as a value; this one asks the type checker.

/** The expect(...) call a matcher chain starts from (`expect(x).not.toEqual`), if any. */
function expectCallOf(node) {
  let current = node;
  while (current) {
    if (current.type === 'CallExpression') {
      if (current.callee.type === 'Identifier' && current.callee.name === 'expect') return current;
      current = current.callee;
    } else if (current.type === 'MemberExpression') current = current.object;
    else return undefined;
  }
  return undefined;
}

/** Whether a matcher chain awaits its subject (`.resolves`, `.rejects`). */
function unwraps(matcher) {
  for (let m = matcher.callee; m?.type === 'MemberExpression'; m = m.object)
    if (m.property.type === 'Identifier' && ['resolves', 'rejects'].includes(m.property.name)) return true;
  return false;
}

/** @type {import('eslint').Rule.RuleModule} */
export const noPromiseAssertion = {
  meta: {
    type: 'problem',
    messages: {
      subject: 'expect() is handed a Promise: await it first (or use .resolves / .rejects).',
      expected: 'This matcher compares with a Promise, not its value: await it first.',
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program) throw new Error('svc/no-promise-assertion needs type information (parserOptions.project)');
    const checker = services.program.getTypeChecker();
    const thenable = (node) => {
      const type = services.getTypeAtLocation(node);
      return (type.isUnion() ? type.types : [type]).some((t) => {
        const then = t.getProperty('then');
        return (
          !!then &&
          checker.getTypeOfSymbolAtLocation(then, services.esTreeNodeToTSNodeMap.get(node)).getCallSignatures().length >
            0
        );
      });
    };
    return {
      CallExpression(node) {
        if (node.callee.type !== 'MemberExpression') return;
        const subject = expectCallOf(node.callee.object);
        if (!subject) return;
        const [value] = subject.arguments;
        if (value && !unwraps(node) && thenable(value) && node.parent?.type !== 'MemberExpression')
          context.report({ node: value, messageId: 'subject' });
        for (const argument of node.arguments)
          if (thenable(argument)) context.report({ node: argument, messageId: 'expected' });
      },
    };
  },
};
